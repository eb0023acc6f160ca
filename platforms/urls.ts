/** Where a provisioning link points, and where a device app checks in with its token. */
export const provisioningUrl = (publicUrl: string, token: string) => `${publicUrl}/provision/${token}`;
export const checkInUrl = (publicUrl: string, token: string) => `${publicUrl}/api/provision/${token}/checkin`;
