export { device } from './device';
export { registration } from './registration';
