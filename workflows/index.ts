export { device } from './device/workflow';
export { invitation } from './invitation/workflow';
export { managedDevice } from './managed-device/workflow';
export { passwordReset } from './password-reset/workflow';
export { registration } from './registration/workflow';
