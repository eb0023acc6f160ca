import { html, type SafeHtml } from '../html';

/** The site's name and help text (SITE_NAME, SITE_HELP), on every page. */
export interface Site {
  name: string;
  help: string;
}

/** One page's own part: its heading (also the start of its title) and what follows the heading. */
export interface Page {
  title: string;
  body: SafeHtml;
  /** Something above the heading: the summary of a form's errors. */
  banner?: SafeHtml;
  /** The page reports a problem with what was sent; screen readers hear it first in the title. */
  failed?: boolean;
}

export function documentOf(site: Site, page: Page): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.failed ? 'Error: ' : ''}${page.title} – ${site.name}</title>
<link rel="stylesheet" href="/assets/setup.css">
<script src="/assets/enhance.js" defer></script>
</head>
<body>
<header class="masthead"><p class="site-name">${site.name}</p></header>
<main id="main" class="content">
${page.banner}
<h1>${page.title}</h1>
${page.body}
</main>
${site.help && html`<footer class="help"><p>${site.help}</p></footer>`}
</body>
</html>
`;
}

/** News about the last step ("we sent a new code"), announced politely. */
export const notice = (text: string | undefined) => text && html`<p class="notice" role="status">${text}</p>`;

const UTC = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

/** A moment, in UTC on the server; the page's script shows it in the reader's own time zone. */
export const moment = (iso: string) =>
  html`<time datetime="${iso}" data-local-time>${UTC.format(new Date(iso))} UTC</time>`;
