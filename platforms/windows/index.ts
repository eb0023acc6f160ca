import type { PlatformHome } from '..';

/** Windows' own enrolment deep link: Settings' "Set up a work or school account" for the organisation's MDM. */
export function windowsEnrolmentUrl(input: { email: string; discoveryUrl: string; token: string }): string {
  const query = new URLSearchParams({
    mode: 'mdm',
    username: input.email,
    servername: input.discoveryUrl,
    accesstoken: input.token,
  });
  return `ms-device-enrollment:?${query.toString().replaceAll('+', '%20')}`;
}

/**
 * Windows PCs enrol into the organisation's own MDM, through Windows' work-account set-up; that MDM reports the
 * enrolment back (POST /api/mdm/events). Their templates' settings are the MDM's business, free-form here.
 */
export const windowsHome: PlatformHome = {
  icon: '<path d="M4 6.6l10-1.4V15H4zM16 4.9l12-1.7V15H16zM4 17h10v9.8L4 25.4zM16 17h12v11.8l-12-1.7z" fill="currentColor"/>',

  async start({ token, records }) {
    const found = await records();
    const discoveryUrl = found?.organisation.windowsMdmDiscoveryUrl;
    return found && discoveryUrl
      ? { kind: 'windows', url: windowsEnrolmentUrl({ email: found.owner.email, discoveryUrl, token }) }
      : undefined;
  },

  instructions: () => [
    'On the Windows PC, open this page (or the link in your e-mail) and select “Enrol this PC”: Windows opens Settings › Accounts › Access work or school › Set up a work or school account, with your address filled in.',
    'Check the address and select Next; sign in with your work account if you are asked to.',
    'When Windows says the PC is set up for your organisation, you are done: your organisation’s device management tells us.',
  ],
  startButton: (start) =>
    start.kind === 'windows' ? { label: 'Enrol this PC', id: 'enrol-windows', url: start.url } : undefined,
  deviceAppCheckInRefusal:
    'Windows PCs are reported by the MDM that enrolled them (POST /api/mdm/events), not by this route.',
};
