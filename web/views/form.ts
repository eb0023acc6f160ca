import type { ZodError } from 'zod';
import { CSRF_FIELD } from '../csrf';
import { html, type SafeHtml } from '../html';
import type { Page } from './document';

/** What a form shows again after a refused submission: the values sent, and an error per field. */
export interface FormState {
  values: Record<string, string>;
  /** By field name; FORM_ERROR for a problem of the whole form. */
  errors: Record<string, string>;
}

export const FORM_ERROR = '';
export const blankForm: FormState = { values: {}, errors: {} };

/** Schema and domain messages are phrases ("at least 10 characters"); a page shows sentences. */
export const sentence = (text: string) => {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
};

/** The refused submission of a form: its values (never a password) and the schema's message for each field. */
export function refused(values: Record<string, unknown>, error: ZodError): FormState {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const name = issue.path.length ? String(issue.path[0]) : FORM_ERROR;
    errors[name] ??= sentence(issue.message);
  }
  return { values: keptValues(values), errors };
}

/** The form again with one error: a domain refusal tied to a field, or to the whole form. */
export const refusedWith = (values: Record<string, unknown>, field: string, message: string): FormState => ({
  values: keptValues(values),
  errors: { [field]: sentence(message) },
});

/** The values a form shows again: never a password (any field named `…password`, a Wi-Fi network's too). */
export const keptValues = (values: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(values).filter(
      (entry): entry is [string, string] => !/password$/i.test(entry[0]) && typeof entry[1] === 'string',
    ),
  );

export const fieldId = (name: string) => `field-${name}`;
export const errorId = (name: string) => `${name}-error`;

/** The ids a control's aria-describedby names: its hint and its error, when it has them. */
export const describedBy = (name: string, state: FormState, hint?: string) =>
  [hint && `${name}-hint`, state.errors[name] && errorId(name)].filter(Boolean).join(' ') || undefined;

export function errorMessage(name: string, state: FormState): SafeHtml | undefined {
  const message = state.errors[name];
  return message
    ? html`<p class="error-message" id="${errorId(name)}"><span class="visually-hidden">Error: </span>${message}</p>`
    : undefined;
}

/** The fields of a form by name, for the error summary to say which field each error is about. */
export type FieldLabels = Record<string, { label: string }>;

/** The list of errors above the heading, each a link to its field; it takes the focus so it is heard first. */
export function errorSummary(state: FormState, labels: FieldLabels): SafeHtml | undefined {
  const entries = Object.entries(state.errors);
  if (entries.length === 0) return undefined;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>
<h2 id="error-summary-title">There is a problem</h2>
<ul>${entries.map(([name, message]) =>
    name === FORM_ERROR
      ? html`<li>${message}</li>`
      : html`<li><a href="#${fieldId(name)}">${labels[name] ? `${labels[name].label}: ` : ''}${message}</a></li>`,
  )}</ul>
</div>`;
}

export interface FieldSpec {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password' | 'tel' | 'url';
  hint?: string;
  autocomplete?: string;
  inputmode?: 'numeric' | 'email' | 'tel';
  maxlength?: number;
  optional?: boolean;
}

/** A control with its label, hint and error, in that order; `kind` styles the whole (a checkbox's box comes first). */
function labelled(state: FormState, spec: FieldSpec, control: SafeHtml, kind = ''): SafeHtml {
  const { name, hint } = spec;
  return html`<div class="field${kind}${state.errors[name] ? ' field-invalid' : ''}">
<label for="${fieldId(name)}">${spec.label}${spec.optional && html` <span class="optional">(optional)</span>`}</label>
${hint && html`<p class="hint" id="${name}-hint">${hint}</p>`}
${errorMessage(name, state)}
${control}
</div>`;
}

/** What names a control and ties it to its hint and error. */
const controlAttributes = (state: FormState, { name, hint }: FieldSpec) =>
  html`id="${fieldId(name)}" name="${name}"${attribute('aria-describedby', describedBy(name, state, hint))}${state.errors[name] && html` aria-invalid="true"`}`;

export function field(state: FormState, spec: FieldSpec): SafeHtml {
  return labelled(
    state,
    spec,
    html`<input ${controlAttributes(state, spec)} type="${spec.type ?? 'text'}" value="${state.values[spec.name] ?? ''}"${attribute('autocomplete', spec.autocomplete)}${attribute('inputmode', spec.inputmode)}${attribute('maxlength', spec.maxlength)}${!spec.optional && html` required`}>`,
  );
}

/** A yes-or-no field: ticked, the form sends "on"; unticked, nothing at all (see `ticked` in web/page-kit.ts). */
export const checkbox = (state: FormState, spec: FieldSpec): SafeHtml =>
  labelled(
    state,
    spec,
    html`<input ${controlAttributes(state, spec)} type="checkbox" value="on"${state.values[spec.name] === 'on' && html` checked`}>`,
    ' field-checkbox',
  );

/** A choice of one of a few options, the value of the state selected. */
/** One option of a choice: its value and the text shown for it. */
export interface Choice {
  value: string;
  text: string;
}

export const select = (state: FormState, spec: FieldSpec, options: Choice[]): SafeHtml =>
  labelled(
    state,
    spec,
    html`<select ${controlAttributes(state, spec)}>
${options.map(({ value, text }) => html`<option value="${value}"${value === (state.values[spec.name] ?? '') && html` selected`}>${text}</option>`)}
</select>`,
  );

/** Text of several lines: a list, one item a line, or a document (JSON). */
export const textarea = (state: FormState, spec: FieldSpec, rows = 4): SafeHtml =>
  labelled(
    state,
    spec,
    html`<textarea ${controlAttributes(state, spec)} rows="${rows}" spellcheck="false"${!spec.optional && html` required`}>${state.values[spec.name] ?? ''}</textarea>`,
  );

/** ` name="value"`, or nothing for no value. */
export const attribute = (name: string, value: string | number | undefined) =>
  value === undefined ? undefined : html` ${name}="${value}"`;

/** A form that posts back to the server, with the CSRF token; `novalidate` so the server's messages are the ones shown. */
export function postForm(action: string, csrf: string, content: SafeHtml): SafeHtml {
  return html`<form method="post" action="${action}" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
${content}
</form>`;
}

export const button = (
  text: string,
  options: {
    variant?: 'primary' | 'secondary' | 'link';
    id?: string;
    describedBy?: string;
    /** A button that sends a value of its own (one of several in a form; in a GET form only: see `formaction`). */
    name?: string;
    value?: string;
    /**
     * A button that sends the form to an address of its own: one of several in a POST form, where web/static/
     * enhance.js disables the pressed button as the form goes, so a name and value of its own would not be sent.
     */
    formaction?: string;
  } = {},
) =>
  html`<button type="submit" class="button button-${options.variant ?? 'primary'}"${attribute('id', options.id)}${attribute('name', options.name)}${attribute('value', options.value)}${attribute('formaction', options.formaction)}${attribute('aria-describedby', options.describedBy)}>${text}</button>`;

/** A page whose form may come back refused: its errors summed up above the heading, and said in the title. */
export const formPage = (state: FormState, title: string, body: SafeHtml, labels: FieldLabels = {}): Page => ({
  title,
  body,
  banner: errorSummary(state, labels),
  failed: Object.keys(state.errors).length > 0,
});
