import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { createAdmin } from '../../db/admins';
import { hashPassword } from '../../lib/secrets';
import { newTotpSecret } from '../../lib/totp';
import { replaceSetupLink } from '../../services/admin/setup';
import { system } from './system';
import { pathOf, press } from './web-flow';

/** Admins of the console for the tests: made directly, signed in through the pages. */

export const ADMIN_PASSWORD = 'quiet harbour lanterns drift';

export interface TestAdmin {
  id: number;
  email: string;
  password: string;
  /** The TOTP secret in base32, as the authenticator app holds it. */
  secret: string;
}

let made = 0;
const adminStore = () => ({ models: system().db.models, secrets: system().secrets });

/** An admin in the database, as set-up or an accepted invitation leaves one: a supervisor, or a manager of a slug. */
export async function makeAdmin(
  options: { manages?: string; email?: string; password?: string } = {},
): Promise<TestAdmin> {
  const { models } = system().db;
  const organisation = options.manages && (await models.Organisation.findOne({ where: { slug: options.manages } }));
  if (options.manages && !organisation) throw new Error(`no organisation ${options.manages}`);
  made += 1;
  const email = options.email ?? `admin-${made}-${Date.now()}@example.com`;
  const password = options.password ?? ADMIN_PASSWORD;
  const secret = newTotpSecret();
  const user = await createAdmin(adminStore(), {
    email,
    passwordHash: await hashPassword(password),
    totpSecret: secret,
    role: organisation ? 'manager' : 'supervisor',
    organisationId: organisation ? organisation.id : null,
  });
  return { id: user.id, email, password, secret };
}

const STEP_MS = 30_000;

/** The authenticator app's code for a time step. */
export const codeAt = (secret: string, step: number) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: step * STEP_MS });

export const currentStep = () => Math.floor(Date.now() / STEP_MS);

/**
 * A code the server takes now: of a step it accepts (one either side of its own) that comes after the last step the
 * admin used. When that step is still ahead (an admin who signed in twice within a minute), waits for it.
 */
export async function nextCode(admin: { id: number; secret: string }): Promise<string> {
  const row = await system().db.models.AdminUser.findByPk(admin.id);
  const after = row?.totpLastStep ?? Number.NEGATIVE_INFINITY;
  for (;;) {
    const now = currentStep();
    const step = Math.max(now, after + 1);
    if (step <= now + 1) return codeAt(admin.secret, step);
    await new Promise((resolve) => setTimeout(resolve, (step - 1) * STEP_MS - Date.now() + 50));
  }
}

/** Fills the sign-in form and presses Continue; the page that answers. */
export async function enterPassword(page: Page, email: string, password: string) {
  await page.goto('/admin/sign-in');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  return press(page, 'Continue');
}

/** Fills the code page and presses Sign in; the page that answers. */
export async function enterCode(page: Page, code: string) {
  await page.getByLabel('Code', { exact: true }).fill(code);
  return press(page, 'Sign in');
}

/** Signs an admin in, in a browser page: password, then a fresh code; ends on the admin home. */
export async function signInAdmin(page: Page, admin: TestAdmin): Promise<void> {
  await enterPassword(page, admin.email, admin.password);
  expect(pathOf(page)).to.equal('/admin/sign-in/code');
  await enterCode(page, await nextCode(admin));
  expect(pathOf(page)).to.equal('/admin');
}

/** A new first-supervisor set-up link, as `npm run admin:setup-link --recovery` makes it (the unused one goes). */
export const newSetupLink = (ttlMs = 86_400_000): Promise<string> =>
  replaceSetupLink(adminStore(), { publicUrl: 'http://app.test', ttlMs, recovery: true });

/** The page's CSRF token (every signed-in page has one, in the sign-out form; sign-in has its own form's). */
export const csrfOn = (page: Page) => page.locator('input[name="_csrf"]').first().inputValue();

/** A form posted from the page's browser profile (its cookies), as a script or another site would post it. */
export const postAs = (page: Page, route: string, form: Record<string, string>) =>
  page.request.post(route, { form, maxRedirects: 0 });

/** A signed-in admin kept out of pages and forms: each page answers the 403 page, each form (with its token) 403. */
export async function expectForbidden(page: Page, pages: string[], forms: Array<[string, Record<string, string>]>) {
  const csrf = await csrfOn(page);
  for (const address of pages) {
    expect((await page.goto(address))?.status(), address).to.equal(403);
    expect(await page.locator('h1').textContent()).to.equal('You cannot do that');
  }
  for (const [route, form] of forms) {
    expect((await postAs(page, route, { ...form, _csrf: csrf })).status(), route).to.equal(403);
  }
}
