import type { OutboxMessage } from '../../db/models';
import { html } from '../html';
import { moment, type Page } from './document';

/** Web addresses in a message, to show as links: only http(s), so nothing else becomes clickable. */
const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

function withLinks(text: string) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    parts.push(text.slice(last, match.index), html`<a href="${match[0]}">${match[0]}</a>`);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

/** The embedded default's stand-in for mail and SMS delivery, newest first. */
export function outboxPage(messages: OutboxMessage[]): Page {
  return {
    title: 'Outbox',
    body: html`<p>No mail server or SMS provider is configured, so e-mails and SMS are kept here instead of being sent. Newest first.</p>
${
  messages.length === 0
    ? html`<p>Nothing has been sent yet.</p>`
    : html`<ol class="outbox">${messages.map(
        (message) => html`<li class="message">
<h2>${message.channel === 'sms' ? 'SMS' : message.subject}</h2>
<p class="meta">To ${message.recipient}, ${moment(message.createdAt.toISOString())}</p>
<p class="message-body">${withLinks(message.body)}</p>
</li>`,
      )}</ol>`
}`,
  };
}
