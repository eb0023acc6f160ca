/** Workflow ids: what operators see and search by, and what makes the same address resume its registration. */
export const registrationWorkflowId = (organisation: string, email: string) => `registration/${organisation}/${email}`;
export const deviceWorkflowId = (deviceId: string) => `device/${deviceId}`;
export const managedDeviceWorkflowId = (deviceId: string) => `managed-device/${deviceId}`;
export const passwordResetWorkflowId = (organisation: string, email: string) =>
  `password-reset/${organisation}/${email}`;
export const invitationWorkflowId = (organisation: string, email: string) => `invitation/${organisation}/${email}`;
