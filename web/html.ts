/**
 * The pages' only way to make HTML: the `html` tag escapes every interpolated value unless it is itself HTML made by
 * `html` (or markup a trusted generator made, wrapped with `trusted`). Forgetting to escape is therefore impossible.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  // `${condition && html`…`}` leaves nothing behind when the condition is false.
  if (value === null || value === undefined || typeof value === 'boolean') return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, text, i) => out + render(values[i - 1]) + text));
}

/** Markup made by a library we trust (the QR code's SVG), inserted as it is. */
export const trusted = (markup: string): SafeHtml => new SafeHtml(markup);
