import { html } from '../html';
import type { Page } from './document';

/** A page that explains why the flow cannot go on, and what the owner can do instead. */
export function problemPage(input: {
  title: string;
  message: string;
  advice?: string;
  next?: { href: string; text: string };
}): Page {
  return {
    title: input.title,
    body: html`<p class="problem">${input.message}</p>
${input.advice && html`<p>${input.advice}</p>`}
${input.next && html`<p><a href="${input.next.href}">${input.next.text}</a></p>`}`,
  };
}
