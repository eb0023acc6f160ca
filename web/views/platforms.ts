import type { Platform } from '../../domain/platform';
import { homeOf } from '../../platforms';
import { type PlatformTraits, traitsOf } from '../../platforms/traits';
import { html, type SafeHtml, trusted } from '../html';

/** How a platform is offered to its owner: its name, a line of text, and its icon (decorative: the name says it). */
export function platformChoice(platform: Platform): { name: string; text: string; icon: SafeHtml } {
  return {
    ...traitsOf(platform).choice,
    icon: html`<svg class="icon" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">${trusted(homeOf(platform).icon)}</svg>`,
  };
}

/** A platform's name as people read it (a name from a run's history that is no platform's now, as it is). */
export const platformName = (platform: Platform): string =>
  (traitsOf(platform) as PlatformTraits | undefined)?.choice.name ?? platform;
