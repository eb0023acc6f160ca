import type { PlatformTraits } from '../traits';

export const ANDROID_TRAITS: PlatformTraits = {
  mdmManaged: false,
  linkBySms: { phoneRequired: 'Android setup sends the link by SMS: give a mobile phone number.' },
  // The link goes by SMS: nothing to offer while SMS installation codes are off.
  offered: ({ systemPlatforms }) => Boolean(systemPlatforms.android?.useSmsInstallationCode),
  offeredWhen: 'Offered while Configuration › Platforms has “Use SMS installation code” on.',
  choice: { name: 'Android phone or tablet', text: 'We send the provisioning link to your phone by SMS.' },
};
