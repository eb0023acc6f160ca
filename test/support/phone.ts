import { expect } from 'chai';
import { eventually } from './eventually';
import { type ApiUnderTest, system } from './system';

/** The SMS that proves a number carries a code and no link; the link follows once the code is typed. */
const CODE_SMS = /^Your code to confirm this number for device setup: (\d{6})\./;

/** The SMS sent to a number so far that carry a phone code. */
export const codeSmsTo = (phone: string) =>
  system()
    .twilio.to(phone)
    .filter((sms) => CODE_SMS.test(sms.body));

/** The code of the n-th code SMS to a number (1 for the first), once it has arrived. */
export async function phoneCodeFor(phone: string, nth = 1): Promise<string> {
  const sent = await eventually(
    async () => codeSmsTo(phone),
    (found) => found.length >= nth,
  );
  const code = CODE_SMS.exec(sent[nth - 1]?.body ?? '')?.[1];
  expect(code, `code SMS number ${nth} to ${phone}`).to.be.a('string');
  return code as string;
}

/** The SMS to a number that carry a provisioning link, once `count` of them have arrived (or the wait is over). */
export const linkSmsTo = (phone: string, count = 1) =>
  eventually(
    async () =>
      system()
        .twilio.to(phone)
        .filter((sms) => sms.body.includes('/provision/')),
    (found) => found.length >= count,
  );

/**
 * Proves the number with the code sent to it, through a registration's route (`/api/setup/registrations/<id>/phone`,
 * with its token) or a signed-in owner's (`/api/me/devices/<id>/phone`); the link then goes to it by SMS.
 */
export async function provePhone(api: ApiUnderTest, route: string, token: string, phone: string, nth = 1) {
  const answer = await api.call('POST', route, { token, body: { code: await phoneCodeFor(phone, nth) } });
  expect(answer.status, answer.text).to.equal(200);
  expect(answer.body).to.deep.equal({ sms: 'link-sent' });
  return answer;
}
