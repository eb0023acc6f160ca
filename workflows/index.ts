export { device } from './device';
export { managedDevice } from './managed-device';
export { passwordReset } from './password-reset';
export { registration } from './registration';
