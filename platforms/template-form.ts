import type { Choice, FieldSpec } from '../web/views/form';

/**
 * How a platform's typed device-template settings appear in the admin console's form, part by part (`SettingsPart`),
 * described once in the platform's home: the console draws the parts and reads them back into the `management` its
 * settings schema checks.
 */

/**
 * One input of a part of the settings, by its key in that part: text (left out when empty and optional), a secret (a
 * password: never shown, left out when empty), a whole number, lines (a list), a flag (a checkbox, left out while it
 * is the platform's default) or a choice.
 */
export type SettingInput =
  | { key: string; kind: 'text' | 'secret' | 'whole' | 'lines'; spec: FieldSpec }
  | { key: string; kind: 'flag'; spec: FieldSpec; byDefault: boolean }
  | { key: string; kind: 'choice'; spec: FieldSpec; options: Choice[] };

/**
 * A part of a template's settings: an object in `management` (with a key) or fields of `management` itself. It is
 * there always, while a box is ticked, while one of its inputs is filled in, or when anything in it is set.
 */
export interface SettingsPart {
  key?: string;
  legend?: string;
  hint?: string;
  when: 'always' | 'any' | { ticked: FieldSpec } | { filled: string };
  inputs: SettingInput[];
}

/** The inputs of one part, named after their path in the body (`management-wifi-ssid`) so refusals find them. */
export function inputsOf(part?: string) {
  const spec = (key: string, label: string, more: Partial<FieldSpec> = {}): FieldSpec => ({
    name: ['management', part, key].filter(Boolean).join('-'),
    label,
    ...more,
  });
  return {
    text: (key: string, label: string, more: Partial<FieldSpec> = {}): SettingInput => ({
      key,
      kind: 'text',
      spec: spec(key, label, more),
    }),
    whole: (key: string, label: string, hint: string): SettingInput => ({
      key,
      kind: 'whole',
      spec: spec(key, label, { hint, inputmode: 'numeric', optional: true, maxlength: 9 }),
    }),
    flag: (key: string, label: string, byDefault: boolean): SettingInput => ({
      key,
      kind: 'flag',
      byDefault,
      spec: spec(key, label),
    }),
    choice: (key: string, label: string, options: Choice[]): SettingInput => ({
      key,
      kind: 'choice',
      options,
      spec: spec(key, label),
    }),
    secret: (key: string, label: string, hint: string): SettingInput => ({
      key,
      kind: 'secret',
      spec: spec(key, label, { type: 'password', autocomplete: 'new-password', hint, optional: true }),
    }),
    lines: (key: string, label: string, hint: string): SettingInput => ({
      key,
      kind: 'lines',
      spec: spec(key, label, { hint, optional: true }),
    }),
  };
}

/** A Wi-Fi network, as both platforms describe one; its security options are each platform's own names. */
export function wifiPart(
  key: string,
  legend: string,
  security: Choice[],
  more: { hint?: string; autoJoin?: boolean } = {},
) {
  const input = inputsOf(key);
  return {
    key,
    legend,
    hint: more.hint,
    when: { filled: 'ssid' },
    inputs: [
      input.text('ssid', 'Network name (SSID)', { optional: true, hint: 'Leave it empty for no network.' }),
      input.choice('security', 'Security', security),
      input.secret('password', 'Password', 'Not for an open network.'),
      input.flag('hidden', 'The network is hidden (it does not broadcast its name)', false),
      ...(more.autoJoin ? [input.flag('autoJoin', 'Join the network automatically', true)] : []),
    ],
  } satisfies SettingsPart;
}
