import type { Platform } from '../../domain/platform';
import { html, type SafeHtml } from '../html';
import { notice, type Page } from '../views/document';
import {
  attribute,
  blankForm,
  button,
  describedBy,
  errorMessage,
  type FieldSpec,
  type FormState,
  field,
  fieldId,
  formPage,
  postForm,
} from '../views/form';
import { platformChoice } from '../views/platforms';
import { SMS_PHONE } from './profile.view';

const PLATFORM = { label: 'Device' };

export function devicePage(input: {
  organisation: string;
  platforms: Platform[];
  csrf: string;
  state?: FormState;
  linkExpired?: boolean;
  /** Where the choice is posted: the registration's step unless a signed-in owner adds a device. */
  action?: string;
  /** The phone field offered with Android; none when the account already has a number. */
  phone?: FieldSpec | false;
  /** Something after the form: a way back. */
  after?: SafeHtml;
}): Page {
  const state = input.state ?? blankForm;
  const title = 'Choose your device';
  if (input.platforms.length === 0) {
    return formPage(
      state,
      title,
      html`<p>No device types can be set up here at the moment. Please try again later.</p>`,
    );
  }
  const phone = input.phone ?? SMS_PHONE;
  const chosen = state.values.platform ?? (input.platforms.length === 1 ? input.platforms[0] : undefined);
  return formPage(
    state,
    title,
    html`${notice(input.linkExpired ? 'Your last provisioning link expired unused. Choose the device again for a new link.' : undefined)}
${postForm(
  input.action ?? `/setup/${input.organisation}/device`,
  input.csrf,
  html`<fieldset id="${fieldId('platform')}" class="choices${state.errors.platform ? ' field-invalid' : ''}"${attribute('aria-describedby', describedBy('platform', state))}>
<legend>Which device do you want to set up?</legend>
${errorMessage('platform', state)}
${input.platforms.map((platform) => {
  const { name, text, icon } = platformChoice(platform);
  return html`<div class="choice">
<input type="radio" name="platform" id="platform-${platform}" value="${platform}" aria-describedby="platform-${platform}-text"${platform === chosen && html` checked`}>
<label for="platform-${platform}">${icon}<span class="choice-name">${name}</span><span class="choice-text" id="platform-${platform}-text">${text}</span></label>
</div>`;
})}
</fieldset>
${input.platforms.includes('android') && phone && field(state, phone)}
${button('Continue')}`,
)}
${input.after}`,
    { platform: PLATFORM, phone: phone || SMS_PHONE },
  );
}
