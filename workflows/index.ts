export { device } from './device';
export { invitation } from './invitation';
export { managedDevice } from './managed-device';
export { passwordReset } from './password-reset';
export { registration } from './registration';
