import type { PlatformTraits } from '../traits';

const MANAGED = {
  mdmManaged: true,
  offered: ({ engines }) => engines.apple,
  offeredWhen: 'Offered while Apple enrolment is set up on this server.',
} satisfies Partial<PlatformTraits>;

/** iPhones and iPads, and Macs: both enrol with a configuration profile and are managed through NanoMDM. */
export const APPLE_TRAITS: Record<'ios' | 'macos', PlatformTraits> = {
  ios: { ...MANAGED, choice: { name: 'iPhone or iPad', text: 'Installs a configuration profile from Safari.' } },
  macos: { ...MANAGED, choice: { name: 'Mac', text: 'Installs a configuration profile on your Mac.' } },
};
