import { html } from '../html';
import type { Page } from '../views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from '../views/form';

const PHONE_FORMAT = 'In international format, for example +447700900123.';

const FIELDS = {
  firstName: { name: 'firstName', label: 'First name', autocomplete: 'given-name' },
  lastName: { name: 'lastName', label: 'Last name', autocomplete: 'family-name' },
  phone: {
    name: 'phone',
    label: 'Mobile phone number',
    type: 'tel',
    hint: `${PHONE_FORMAT} Needed for Android devices: we send their provisioning link by SMS.`,
    autocomplete: 'tel',
    inputmode: 'tel',
    optional: true,
  },
  password: {
    name: 'password',
    label: 'Password',
    type: 'password',
    hint: 'At least 12 characters and hard to guess: a few unrelated words work well. You sign in with it later to add more devices.',
    autocomplete: 'new-password',
  },
} satisfies Record<string, FieldSpec>;

/** The phone number asked for with the device choice, when Android needs one the profile did not give. */
export const SMS_PHONE: FieldSpec = {
  ...FIELDS.phone,
  label: 'Mobile phone number for the SMS',
  hint: `Only for Android, if you did not give it on the previous page. ${PHONE_FORMAT}`,
};

export function profilePage(input: { organisation: string; csrf: string; state?: FormState }): Page {
  const state = input.state ?? blankForm;
  return formPage(
    state,
    'About you',
    html`<p>Your account is made with these details.</p>
${postForm(
  `/setup/${input.organisation}/profile`,
  input.csrf,
  html`${Object.values(FIELDS).map((spec) => field(state, spec))}
${button('Continue')}`,
)}`,
    FIELDS,
  );
}
