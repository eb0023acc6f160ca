import type { SignedInAdmin } from '../../services/admin/admins';
import { html } from '../html';
import { notice, type Page } from '../views/document';
import { button, postForm } from '../views/form';
import { deviceSetupPath } from './device-setup.view';
import { devicesPath } from './devices.view';
import { registrationsPath } from './registrations.view';
import { templatesPath } from './templates.view';

/** The admin console's frame and home: who is signed in, and the sections their role may use. */

interface Section {
  href: string;
  text: string;
  about: string;
}

/** An organisation's own sections: what its manager works on, and a supervisor reaches from its page. */
export const organisationSections = (slug: string): Section[] => [
  {
    href: deviceSetupPath(slug),
    text: 'Device setup',
    about: 'Who may register, with which account and device templates, and how many devices.',
  },
  { href: templatesPath(slug), text: 'Templates', about: 'The account and device templates.' },
  { href: registrationsPath(slug), text: 'Registrations', about: 'Who is registering, and how far they got.' },
  { href: devicesPath(slug), text: 'Devices', about: 'The devices registered, their links and their removal.' },
];

/** Sections as a list of links, each with what it is for. */
export const sectionList = (sections: Section[]) =>
  html`<ul class="admin-sections">${sections.map(
    (section) => html`<li><a href="${section.href}">${section.text}</a><p class="hint">${section.about}</p></li>`,
  )}</ul>`;

/** The sections of the console a role may use; a manager's are those of their own organisation. */
export function sectionsOf({ user, organisation }: SignedInAdmin): Section[] {
  if (user.role === 'supervisor') {
    return [
      {
        href: '/admin/configuration/platforms',
        text: 'Configuration › Platforms',
        about: 'Device setup system-wide, the default organisation, the platforms and the enrolment engines.',
      },
      {
        href: '/admin/organisations',
        text: 'Organisations',
        about: 'The organisations, their managers and their device setup.',
      },
      { href: '/admin/tokens', text: 'API tokens', about: 'Tokens for automation, and revoking them.' },
    ];
  }
  return organisation ? organisationSections(organisation.slug) : [];
}

/** An organisation as the console names it: by name, with the slug its addresses use. */
export const organisationName = ({ name, slug }: { name: string; slug: string }) => `${name} (${slug})`;

/** The organisations as a select's options, after the option that chooses none. */
export const organisationChoices = (organisations: Array<{ name: string; slug: string }>, none: string) => [
  { value: '', text: none },
  ...organisations.map((organisation) => ({ value: organisation.slug, text: organisationName(organisation) })),
];

const roleOf = ({ user, organisation }: SignedInAdmin) =>
  user.role === 'supervisor' ? 'Supervisor' : `Manager of ${organisation?.name}`;

/** A signed-in page: above its heading, who is signed in, in which role, and the way out. */
export function adminFrame(input: { admin: SignedInAdmin; csrf: string }, page: Page): Page {
  const { admin } = input;
  return {
    ...page,
    banner: html`<div class="account">
<p>Signed in as <strong class="address">${admin.user.email}</strong> <span class="role">(${roleOf(admin)})</span></p>
${postForm('/admin/sign-out', input.csrf, button('Sign out', { variant: 'link' }))}
</div>
${page.banner}`,
  };
}

export function adminHomePage(input: { admin: SignedInAdmin; notice?: string }): Page {
  return {
    title: 'Admin console',
    body: html`${notice(input.notice)}
<nav aria-label="Sections">
${sectionList(sectionsOf(input.admin))}
</nav>`,
  };
}
