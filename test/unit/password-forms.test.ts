import { expect } from 'chai';
import type { ZodError } from 'zod';
import { passwordResetStrength, profileForm } from '../../services/schemas';
import { refused } from '../../web/views/form';

const STRONG = 'plum-Orbit-kettle-91-Sway';

describe('new passwords', () => {
  it('are refused beside the password field of the web forms, with the same messages', () => {
    const messageOf = (result: { error?: ZodError }) => refused({}, result.error as ZodError).errors.password;
    const profile = { firstName: 'Ada', lastName: 'Lovelace', phone: '' };
    expect(messageOf(profileForm.safeParse({ ...profile, password: 'short' }))).to.equal('At least 12 characters.');
    expect(messageOf(profileForm.safeParse({ ...profile, password: 'password1234' }))).to.match(
      /^Too easy to guess\. /,
    );
    const reset = { email: 'ada@example.com', code: '123456', password: 'qwertyuiop12' };
    expect(messageOf(passwordResetStrength.safeParse(reset))).to.match(/^Too easy to guess\. /);
    expect(profileForm.safeParse({ ...profile, password: STRONG }).success).to.equal(true);
  });
});
