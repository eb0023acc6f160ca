export { device } from './device';
export { passwordReset } from './password-reset';
export { registration } from './registration';
