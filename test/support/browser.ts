import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AxeResults } from 'axe-core';
import { expect } from 'chai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { SITE_NAME, system } from './system';

/** Debian's Chromium (the `chromium` package), driven by playwright-core: no browser download. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

/** A fresh browser profile (no cookies) on the test API, phone-sized. */
export function newVisitor(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<BrowserContext> {
  return browser.newContext({ baseURL: system().api.url, viewport: PHONE, ...options });
}

/** Runs steps in a fresh browser profile (see newVisitor), closed afterwards whatever happens. */
export async function visiting<T>(
  browser: Browser,
  steps: (page: Page) => Promise<T>,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<T> {
  const context = await newVisitor(browser, options);
  try {
    return await steps(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Links in mails point at the public URL (`http://app.test` in tests); the browser opens them on the test API. */
export const onTestApi = (publicLink: string) => publicLink.replace(/^http:\/\/app\.test/, system().api.url);

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = path.resolve('test-output/screenshots');

/**
 * What every page must be: English, titled "<title> – <site name>", one h1, and free of serious or critical
 * accessibility violations by axe-core. With a name, it is also photographed at phone and desktop width.
 */
export async function expectGoodPage(page: Page, screenshot?: string): Promise<void> {
  expect(await page.getAttribute('html', 'lang')).to.equal('en');
  expect(await page.title()).to.match(new RegExp(`^.+ – ${SITE_NAME}$`));
  expect(await page.locator('h1').count(), 'one h1').to.equal(1);

  // Evaluated by the test, not loaded as a page script: the pages' CSP allows no inline script, rightly.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const results = await page.evaluate(() =>
    (window as unknown as { axe: { run(options: object): Promise<AxeResults> } }).axe.run({
      resultTypes: ['violations'],
    }),
  );
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(serious, `${page.url()}`).to.deep.equal([]);

  if (screenshot) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const viewport = page.viewportSize() ?? PHONE;
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${screenshot}-${size.width}.png`), fullPage: true });
    }
    await page.setViewportSize(viewport);
  }
}

/** The accessible error of a form control: the element its aria-describedby names that holds the error. */
export async function errorOf(page: Page, selector: string): Promise<string> {
  const control = page.locator(selector);
  if (await control.evaluate((element) => element.tagName === 'INPUT')) {
    expect(await control.getAttribute('aria-invalid'), `${selector} aria-invalid`).to.equal('true');
  }
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"].error-message`).allTextContents()));
  const error = texts.flat().join(' ');
  expect(error, `an error tied to ${selector}`).to.not.equal('');
  return error;
}
