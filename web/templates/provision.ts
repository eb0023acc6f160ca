import type { ProvisioningLink } from '../../lib/platforms';
import { html, type SafeHtml } from '../html';
import { moment, type Page } from './document';
import { PLATFORM_CHOICES } from './platforms';

/** The platform's steps, its provisioning link as a button and as a QR code (for a second device), and its expiry. */
export function provisionPage(input: {
  organisation: string;
  link: ProvisioningLink;
  qrCode: SafeHtml;
  /** Where the owner sees whether the device has checked in: the registration's page unless signed in. */
  statusHref?: string;
}): Page {
  const { link } = input;
  return {
    title: `Set up your ${PLATFORM_CHOICES[link.platform].name}`,
    body: html`<ol class="steps">${link.instructions.map((step) => html`<li>${step}</li>`)}</ol>
${link.platform === 'android' && html`<p class="notice">We have also sent this link by SMS to your mobile phone.</p>`}
<p><a class="button button-primary" href="${link.provisioningUrl}" id="provisioning-link">Open the provisioning link</a></p>
<p class="expiry">The link works once, until ${moment(link.expiresAt)}.</p>
<h2>Setting up a different device?</h2>
<figure class="qr">
<div class="qr-code" role="img" aria-label="QR code of the provisioning link">${input.qrCode}</div>
<figcaption>Scan this code with the camera of the device you are setting up: it opens the same link there.</figcaption>
</figure>
<p>When the device has checked in, we e-mail you. <a href="${input.statusHref ?? `/setup/${input.organisation}`}">Check whether it has</a>.</p>`,
  };
}

export function donePage(): Page {
  return {
    title: 'Your device is set up',
    body: html`<p>It has checked in and is now managed by your organisation. We have sent you a confirmation e-mail.</p>
<p>You can close this page.</p>`,
  };
}
