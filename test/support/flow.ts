import { expect } from 'chai';
import type { Platform } from '../../domain/platform';
import { reportEnrolment } from './mdm-events';
import { codeIn } from './smtp';
import { type ApiUnderTest, type HttpAnswer, mdmWebhookSecretOf, system } from './system';

let counter = 0;
/** A fresh address per test, so registrations never collide across tests. */
export const uniqueEmail = (label = 'owner') => `${label}.${Date.now().toString(36)}.${++counter}@example.com`;

export interface Registered {
  id: string;
  token: string;
  email: string;
  organisation: string;
}

export async function register(api: ApiUnderTest, organisation: string, email: string): Promise<Registered> {
  const answer = await api.call('POST', '/api/setup/registrations', { body: { organisation, email } });
  expect(answer.status, answer.text).to.equal(201);
  return { id: answer.body.registrationId, token: answer.body.token, email: email.toLowerCase(), organisation };
}

export const path = (r: Registered, step = '') => `/api/setup/registrations/${r.id}${step ? `/${step}` : ''}`;

/** Registers and verifies with the code from the n-th mail (1 for a new registration). */
export async function verified(api: ApiUnderTest, organisation: string, email = uniqueEmail()): Promise<Registered> {
  const r = await register(api, organisation, email);
  const code = codeIn(await system().mail.nth(r.email, 1));
  const answer = await api.call('POST', path(r, 'verify'), { token: r.token, body: { code } });
  expect(answer.status, answer.text).to.equal(200);
  expect(answer.body).to.deep.equal({ step: 'profile' });
  return r;
}

export async function atDevice(api: ApiUnderTest, organisation: string, phone?: string): Promise<Registered> {
  const r = await verified(api, organisation);
  const answer = await api.call('POST', path(r, 'profile'), {
    token: r.token,
    body: { firstName: 'Ada', lastName: 'Lovelace', password: 'a long passphrase', ...(phone ? { phone } : {}) },
  });
  expect(answer.status, answer.text).to.equal(200);
  return r;
}

export async function withDevice(
  api: ApiUnderTest,
  organisation: string,
  platform: Platform = 'windows',
  phone?: string,
) {
  const r = await atDevice(api, organisation, phone);
  const answer = await api.call('POST', path(r, 'devices'), { token: r.token, body: { platform } });
  expect(answer.status, answer.text).to.equal(201);
  const device = answer.body.device as { id: string; provisioningUrl: string; expiresAt: string };
  return { ...r, device, linkToken: device.provisioningUrl.split('/').pop() as string };
}

/** What a device policy app reports about its Android device at check-in. */
export const ANDROID_DEVICE = {
  serialNumber: 'R58N12ABCDE',
  model: 'Pixel 8',
  manufacturer: 'Google',
  androidVersion: '14',
};

/**
 * The device of a provisioning link checks in the way its platform really does: an Android device policy app calls
 * the check-in itself; a Windows PC is reported by its organisation's MDM through the signed webhook. A token that
 * names no device goes to the check-in route as it is.
 */
export async function checkInDevice(api: ApiUnderTest, linkToken: string): Promise<HttpAnswer> {
  const { models } = system().db;
  const hash = system().secrets.keyedHash('link', linkToken);
  // A link replaced by a newer one still names its device (the webhook refuses it as expired, as the check-in does).
  const retired = await models.RetiredLink.findByPk(hash);
  const device = retired
    ? await models.Device.findByPk(retired.deviceId)
    : await models.Device.findOne({ where: { linkTokenHash: hash } });
  if (device?.platform === 'windows') {
    const organisation = (await models.Organisation.findByPk(device.organisationId))?.slug as string;
    return reportEnrolment(api, { organisation, secret: mdmWebhookSecretOf(organisation), enrolmentToken: linkToken });
  }
  return api.call('POST', `/api/provision/${linkToken}/checkin`, { body: { deviceInfo: ANDROID_DEVICE } });
}

export const registrationHandle = (r: Registered) =>
  system().temporal.client.workflow.getHandle(`registration/${r.organisation}/${r.email}`);

export const expectError = (answer: { status: number; body: unknown; text: string }, status: number, code: string) => {
  expect(answer.status, answer.text).to.equal(status);
  expect(answer.body).to.have.nested.property('error.code', code);
  expect(answer.body).to.have.nested.property('error.message').that.is.a('string').and.not.empty;
};

/**
 * A refusal the page a provisioning link opens (`GET /provision/<token>`) shows as an HTML problem page: the status of
 * the API's code and its message (`message`: the API's sentence for that code).
 */
export const expectProblemPage = (
  answer: { status: number; headers: Headers; text: string },
  status: number,
  message: string,
) => {
  expect(answer.status, answer.text).to.equal(status);
  expect(answer.headers.get('content-type')).to.match(/^text\/html/);
  expect(answer.text).to.include(`<p class="problem">${message}</p>`);
};

export { eventually, sleep } from './eventually';
