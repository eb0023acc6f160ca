import { z } from 'zod';
import { passwordWeakness } from '../domain/password-strength';
import { PLATFORMS } from '../domain/platform';
import { androidCheckInInfo } from '../platforms/android/settings';

/** One schema per request body; unknown fields are refused (`strictObject`). */

export const slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'an organisation slug: lower-case letters, digits and dashes');
/** Addresses are compared in lower case, trimmed: the same mailbox must resume the same registration. */
const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email('a valid e-mail address'))
  .transform((value) => value.toLowerCase());
const phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'a mobile number in international format, e.g. +447700900123');
const name = z.string().trim().min(1, 'required').max(100);

export const createRegistrationBody = z.strictObject({ organisation: slug.optional(), email });
export const verifyBody = z.strictObject({ code: z.string().regex(/^\d{6}$/, 'the 6-digit code from the e-mail') });
export const emptyBody = z.strictObject({});
/** A new password: at least 12 characters (OWASP ASVS 2.1.1) and hard to guess (`passwordStrength`). */
const PASSWORD_LENGTH = { min: 12, max: 200 };
const newPassword = z
  .string()
  .min(PASSWORD_LENGTH.min, `at least ${PASSWORD_LENGTH.min} characters`)
  .max(PASSWORD_LENGTH.max, `at most ${PASSWORD_LENGTH.max} characters`);
/**
 * The strength rule of a body with a new password. On the body, not the field, so that the owner's own details count
 * against a password made of them; in the schema, so that the JSON API and the web pages give the same message. Zod runs
 * it even when fields failed, so it looks only at a password of the right length, and at details that are strings.
 */
const passwordStrength =
  <T extends { password: unknown }>(userInputs: (body: T) => unknown[]) =>
  (body: T, ctx: z.RefinementCtx) => {
    const { password } = body;
    if (typeof password !== 'string' || password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max)
      return;
    const inputs = userInputs(body).filter((input): input is string => typeof input === 'string');
    const weakness = passwordWeakness(password, inputs);
    if (weakness) ctx.addIssue({ code: 'custom', path: ['password'], message: weakness });
  };
const profileFields = { firstName: name, lastName: name, phone: phone.optional(), password: newPassword };
const profileStrength = passwordStrength<{ password: unknown; firstName: unknown; lastName: unknown }>((body) => [
  body.firstName,
  body.lastName,
]);
export const profileBody = z.strictObject(profileFields).superRefine(profileStrength);
export const deviceBody = z.strictObject({ platform: z.enum(PLATFORMS), phone: phone.optional() });
export const phoneBody = z.strictObject({ phone: phone.optional() });
/** The code sent by SMS to prove a device's phone number. */
export const phoneCodeBody = z.strictObject({ code: z.string().regex(/^\d{6}$/, 'the 6-digit code from the SMS') });
/** What an Android device policy app sends at check-in: the device's identifiers (platforms/android/settings.ts says which). */
export const checkInBody = z.strictObject({ deviceInfo: androidCheckInInfo });

/** Path parameters of opaque tokens and ids: bounded, URL-safe base64. */
export const opaqueParam = z.string().regex(/^[A-Za-z0-9_-]{16,512}$/);

/** A returning owner: sign-in, password reset (the typed password is only bounded: old passwords keep working). */
export const signInBody = z.strictObject({
  organisation: slug.optional(),
  email,
  password: z.string().min(1).max(200),
  deviceToken: opaqueParam
    .optional()
    .describe(
      'The deviceToken of this client’s last sign-in to this account: its attempts are then counted on their own, ' +
        'not with strangers’',
    ),
});
export const passwordResetBody = z.strictObject({ organisation: slug.optional(), email });
/**
 * A reset's new password is judged by the service once the reset can succeed (services/owners/accounts.ts), not with the body:
 * zxcvbn's estimate is work a bogus confirmation must not cost. Its refusal lands on the password field all the same.
 */
export const passwordResetStrength = z
  .object({ email: z.string(), password: z.string() })
  .superRefine(passwordStrength((body) => [body.email]));
export const passwordResetConfirmBody = passwordResetBody.extend({
  code: verifyBody.shape.code,
  password: newPassword,
});
/** Device ids are UUIDs the workflow chose. */
export const deviceIdParam = z.uuid();

/** The web pages' forms: the same rules, but a field left blank arrives as an empty string. */
const blankAsUnset = <T extends z.ZodType>(schema: T) =>
  z.union([z.literal('').transform(() => undefined), schema]).optional();
export const organisationForm = z.strictObject({ organisation: slug });
export const emailForm = z.strictObject({ email });
export const profileForm = z
  .strictObject({ ...profileFields, phone: blankAsUnset(phone) })
  .superRefine(profileStrength);
export const deviceForm = z.strictObject({
  platform: z.enum(PLATFORMS, 'choose a device type'),
  phone: blankAsUnset(phone),
});
/**
 * The one-click link from the verification e-mail: its proof of the mailbox; or, in mail sent before links had one, the
 * code itself.
 */
export const linkForm = z.union([
  z.strictObject({ registration: opaqueParam, proof: opaqueParam }),
  z.strictObject({ registration: opaqueParam, code: verifyBody.shape.code }),
]);
/** A returning owner's web forms: the organisation is in the page's address, so it is not a field. */
export const signInForm = z.strictObject({
  email,
  password: signInBody.shape.password.min(1, 'enter your password'),
});
export const passwordResetForm = z.strictObject({ email });
export const passwordResetConfirmForm = z.strictObject({ email, code: verifyBody.shape.code, password: newPassword });
export const phoneForm = z.strictObject({ phone: blankAsUnset(phone) });
