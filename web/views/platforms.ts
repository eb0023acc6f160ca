import type { Platform } from '../../domain/platform';
import { html, type SafeHtml } from '../html';

/** How each platform is offered to its owner: a name, a line of text, and an icon (decorative: the name says it). */
export const PLATFORM_CHOICES: Record<Platform, { name: string; text: string; icon: SafeHtml }> = {
  android: {
    name: 'Android phone or tablet',
    text: 'We send the provisioning link to your phone by SMS.',
    icon: icon(
      html`<path d="M5 23a11 11 0 0 1 22 0z" fill="currentColor"/><path d="M9.5 8.5l2.5 4.5M22.5 8.5l-2.5 4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="11.5" cy="18.5" r="1.6" fill="#fff"/><circle cx="20.5" cy="18.5" r="1.6" fill="#fff"/><rect x="5" y="25" width="22" height="4" rx="1.5" fill="currentColor"/>`,
    ),
  },
  ios: {
    name: 'iPhone or iPad',
    text: 'Installs a configuration profile from Safari.',
    icon: icon(
      html`<rect x="9" y="3" width="14" height="26" rx="3" fill="none" stroke="currentColor" stroke-width="2"/><path d="M14 6.5h4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="16" cy="24.5" r="1.5" fill="currentColor"/>`,
    ),
  },
  macos: {
    name: 'Mac',
    text: 'Installs a configuration profile on your Mac.',
    icon: icon(
      html`<rect x="6" y="7" width="20" height="14" rx="1.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M3 25h26" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"/>`,
    ),
  },
  windows: {
    name: 'Windows PC',
    text: 'Connects your PC to your work account.',
    icon: icon(
      html`<path d="M4 6.6l10-1.4V15H4zM16 4.9l12-1.7V15H16zM4 17h10v9.8L4 25.4zM16 17h12v11.8l-12-1.7z" fill="currentColor"/>`,
    ),
  },
};

function icon(shapes: SafeHtml): SafeHtml {
  return html`<svg class="icon" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">${shapes}</svg>`;
}
