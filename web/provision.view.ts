import { homeOf } from '../platforms';
import type { ProvisioningLink } from '../platforms/link';
import { html, type SafeHtml } from './html';
import { qrCode } from './qr';
import { moment, type Page } from './views/document';
import { blankForm, button, type FieldSpec, type FormState, field, formPage, postForm } from './views/form';
import { platformName } from './views/platforms';

/** The button that starts enrolment on the device itself, where the way it starts has one besides the link. */
function startButton(link: ProvisioningLink): SafeHtml | undefined {
  const button = link.start && homeOf(link.platform).startButton?.(link.start);
  return (
    button && html`<p><a class="button button-primary" href="${button.url}" id="${button.id}">${button.label}</a></p>`
  );
}

/**
 * The code another device scans: for a company-owned Android device, the provisioning QR code its set-up wizard
 * reads; otherwise the link, to open it on the device being set up.
 */
async function codeToScan(link: ProvisioningLink): Promise<SafeHtml> {
  if (link.start && 'qrPayload' in link.start) {
    return html`<h2>Scan this in the new device’s set-up</h2>
<figure class="qr">
<div class="qr-code" role="img" aria-label="Android provisioning QR code">${await qrCode(link.start.qrPayload)}</div>
<figcaption>The device’s set-up wizard reads this code: it names your organisation’s device management app and carries this setup’s one-time key.</figcaption>
</figure>`;
  }
  return html`<h2>Setting up a different device?</h2>
<figure class="qr">
<div class="qr-code" role="img" aria-label="QR code of the provisioning link">${await qrCode(link.provisioningUrl)}</div>
<figcaption>Scan this code with the camera of the device you are setting up: it opens the same link there.</figcaption>
</figure>`;
}

const PHONE_CODE: FieldSpec = {
  name: 'code',
  label: 'Code from the SMS',
  hint: 'The 6 digits we sent to your mobile phone',
  autocomplete: 'one-time-code',
  inputmode: 'numeric',
  maxlength: 6,
};

/** Where the owner types the code that proves their mobile number, and the state of that form. */
export interface PhoneCodeForm {
  action: string;
  csrf: string;
  state: FormState;
}

/** What the page says of the SMS: the code to type while the number is not proven, then that the link went. */
function smsPart(link: ProvisioningLink, form: PhoneCodeForm | undefined): SafeHtml | undefined {
  if (link.sms === 'link-sent')
    return html`<p class="notice">We have also sent this link by SMS to your mobile phone.</p>`;
  if (link.sms !== 'code-sent' || !form) return undefined;
  return html`<h2>Get the link by SMS</h2>
<p>We sent a 6-digit code by SMS to your mobile phone. Enter it here to confirm the number is yours, and we send this link there too.</p>
${postForm(form.action, form.csrf, html`${field(form.state, PHONE_CODE)}${button('Confirm my number')}`)}`;
}

/**
 * The platform's steps, how to start on the device (a button, or the QR code its set-up wizard scans), its
 * provisioning link (for another device: as a button and a QR code), and its expiry. `statusHref`: where the owner sees
 * whether the device has checked in (the registration's page unless signed in); absent on the page the link opens.
 */
export async function provisionPage(input: {
  organisation?: string;
  link: ProvisioningLink;
  statusHref?: string;
  /** The page the link itself opens, on the device (or on a phone beside it). */
  onDevice?: boolean;
  /** The form for the code that proves the owner's mobile number, while the link waits for it (`link.sms`). */
  phoneCode?: PhoneCodeForm;
}): Promise<Page> {
  const { link } = input;
  const unavailable = !link.start;
  const onDeviceButton = startButton(link);
  return formPage(
    input.phoneCode?.state ?? blankForm,
    `Set up your ${platformName(link.platform)}`,
    html`<ol class="steps">${link.instructions.map((step) => html`<li>${step}</li>`)}</ol>
${unavailable && html`<p class="notice">Your organisation’s device management is not set up for this device type at the moment. Ask your IT team.</p>`}
${!input.onDevice && smsPart(link, input.phoneCode)}
${onDeviceButton}
${!input.onDevice && html`<p><a class="button ${onDeviceButton ? 'button-secondary' : 'button-primary'}" href="${link.provisioningUrl}" id="provisioning-link">Open the provisioning link</a></p>`}
<p class="expiry">The link works once, until ${moment(link.expiresAt)}.</p>
${await codeToScan(link)}
${input.statusHref !== undefined || !input.onDevice ? html`<p>When the device has checked in, we e-mail you. <a href="${input.statusHref ?? `/setup/${input.organisation}`}">Check whether it has</a>.</p>` : html`<p>When the device has checked in, we e-mail you.</p>`}`,
    { code: PHONE_CODE },
  );
}

/** The end of a registration: from now on the owner signs in (the registration's token is spent). */
export function donePage(organisation: string): Page {
  return {
    title: 'Your device is set up',
    body: html`<p>It has checked in and is now managed by your organisation. We have sent you a confirmation e-mail.</p>
<p>This registration is complete. To see your devices or add another, <a href="/setup/${organisation}/sign-in">sign in</a>.</p>`,
  };
}
