import { expect } from 'chai';
import type { Platform } from '../../workflows/messages';
import { codeIn } from './smtp';
import { type ApiUnderTest, system } from './system';

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

export const registrationHandle = (r: Registered) =>
  system().temporal.client.workflow.getHandle(`registration/${r.organisation}/${r.email}`);

export const expectError = (answer: { status: number; body: unknown; text: string }, status: number, code: string) => {
  expect(answer.status, answer.text).to.equal(status);
  expect(answer.body).to.have.nested.property('error.code', code);
  expect(answer.body).to.have.nested.property('error.message').that.is.a('string').and.not.empty;
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probes until the answer is as expected or the time is up; returns the last answer for the test to assert on. */
export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}
