import { expect } from 'chai';
import type { Page, Response } from 'playwright-core';
import type { Platform } from '../../domain/platform';
import { expectGoodPage } from './browser';
import { codeSmsTo, phoneCodeFor } from './phone';
import { codeIn } from './smtp';
import { system } from './system';

/** The device owner's steps, done in the browser as a person would: by label and button text. */

/** Submits the page's form by its button and waits for the page that answers. */
export async function press(page: Page, button: string): Promise<Response | null> {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  return response;
}

export const pathOf = (page: Page) => new URL(page.url()).pathname;

export async function giveEmail(page: Page, organisation: string, email: string): Promise<void> {
  await page.goto(`/setup/${organisation}`);
  await page.getByLabel('Your e-mail address').fill(email);
  await press(page, 'Continue');
  expect(pathOf(page)).to.equal(`/setup/${organisation}/verify`);
}

export async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Verification code').fill(code);
  await press(page, 'Confirm');
}

export async function verifyWithMail(page: Page, email: string, nth = 1): Promise<void> {
  await enterCode(page, codeIn(await system().mail.nth(email, nth)));
  expect(pathOf(page)).to.match(/\/profile$/);
}

export async function fillProfile(page: Page, phone?: string): Promise<void> {
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  if (phone) await page.getByLabel('Mobile phone number').fill(phone);
  await page.getByLabel('Password').fill('a long passphrase');
  await press(page, 'Continue');
}

export async function chooseDevice(page: Page, platform: Platform, phone?: string): Promise<void> {
  await page.locator(`#platform-${platform}`).check();
  if (phone) await page.getByLabel('Mobile phone number for the SMS').fill(phone);
  await press(page, 'Continue');
}

/**
 * Types the n-th code sent by SMS to a number into the page's form (a link's page, while the number is not proven),
 * and waits for the link's page (`at`: the page shown, unless it is a refused code's answer), now saying the link went by
 * SMS.
 */
export async function confirmPhone(page: Page, phone: string, nth: number, at = pathOf(page)): Promise<void> {
  await page.getByLabel('Code from the SMS').fill(await phoneCodeFor(phone, nth));
  await press(page, 'Confirm my number');
  expect(pathOf(page)).to.equal(at);
  expect(await page.getByText('We have also sent this link by SMS').count()).to.equal(1);
}

/**
 * From the e-mail address to the provisioning page of a platform, checking each page on the way; for Android, the
 * number is proven with the code the SMS brought.
 */
export async function toProvisioning(page: Page, organisation: string, email: string, platform: Platform) {
  const phone = '+447700900123';
  await giveEmail(page, organisation, email);
  await verifyWithMail(page, email);
  await fillProfile(page, platform === 'android' ? phone : undefined);
  expect(pathOf(page)).to.equal(`/setup/${organisation}/device`);
  const codesBefore = codeSmsTo(phone).length;
  await chooseDevice(page, platform);
  expect(pathOf(page)).to.equal(`/setup/${organisation}/provision`);
  await expectGoodPage(page, `provision-${platform}`);
  if (platform === 'android') await confirmPhone(page, phone, codesBefore + 1);
}
