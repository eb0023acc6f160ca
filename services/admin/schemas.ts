import { z } from 'zod';
import { passwordWeakness } from '../../domain/password-strength';
import { emailForm, passwordResetConfirmForm } from '../schemas';

/** The admin console's forms, with the owners' rules for addresses and new passwords. */

const email = emailForm.shape.email;
const newPassword = passwordResetConfirmForm.shape.password;

/** An admin's choice of address and password: a new password as strong as an owner's, the address counting against it. */
export const adminSetupForm = z.strictObject({ email, password: newPassword }).superRefine((body, ctx) => {
  // Zod runs this even when a field failed: only a password of the right length, with a string address, is judged.
  if (!newPassword.safeParse(body.password).success || typeof body.email !== 'string') return;
  const weakness = passwordWeakness(body.password, [body.email]);
  if (weakness) ctx.addIssue({ code: 'custom', path: ['password'], message: weakness });
});

/** A TOTP code as apps show it, often in two groups of three: spaces are dropped before the six digits are checked. */
export const totpCodeForm = z.strictObject({
  code: z
    .string()
    .transform((code) => code.replace(/\s+/g, ''))
    .pipe(z.string().regex(/^\d{6}$/, 'the 6 digits your authenticator app shows')),
});
