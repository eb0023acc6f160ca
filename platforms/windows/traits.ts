import type { PlatformTraits } from '../traits';

export const WINDOWS_TRAITS: PlatformTraits = {
  mdmManaged: false,
  // A Windows PC enrols into the organisation's own MDM: nothing to offer until the organisation names it.
  offered: ({ organisation }) => Boolean(organisation.windowsMdmDiscoveryUrl),
  offeredWhen: 'Offered once the Windows MDM discovery URL below is set.',
  choice: { name: 'Windows PC', text: 'Connects your PC to your work account.' },
};
