import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlistObject, PlistValue } from 'plist';
import { parse } from 'yaml';

/**
 * Checks property lists against Apple's published schema: the YAML of apple/device-management, vendored in
 * test/fixtures/apple-device-management. Reports required keys that are missing, keys the schema does not know, values
 * of the wrong type, and values outside `rangelist`, `range`, `format` or an array's `repetition`.
 */

export interface KeySpec {
  key: string;
  type: string;
  presence?: 'required' | 'optional';
  rangelist?: unknown[];
  range?: { min?: number; max?: number };
  format?: string;
  repetition?: { min?: number; max?: number };
  subkeys?: KeySpec[];
}

export interface AppleSchema {
  title: string;
  payload: { payloadtype?: string; requesttype?: string };
  payloadkeys: KeySpec[];
}

const ROOT = path.join(__dirname, '..', 'fixtures', 'apple-device-management', 'mdm');

const cache = new Map<string, AppleSchema>();
export function schema(relativePath: string): AppleSchema {
  let loaded = cache.get(relativePath);
  if (!loaded) {
    loaded = parse(readFileSync(path.join(ROOT, relativePath), 'utf8')) as AppleSchema;
    cache.set(relativePath, loaded);
  }
  return loaded;
}

const PAYLOAD_SCHEMAS: Record<string, string> = {
  'com.apple.mdm': 'profiles/com.apple.mdm.yaml',
  'com.apple.security.scep': 'profiles/com.apple.security.scep.yaml',
  'com.apple.mobiledevice.passwordpolicy': 'profiles/com.apple.mobiledevice.passwordpolicy.yaml',
  'com.apple.wifi.managed': 'profiles/com.apple.wifi.managed.yaml',
  'com.apple.applicationaccess': 'profiles/com.apple.applicationaccess.yaml',
};
const COMMAND_SCHEMAS: Record<string, string> = {
  InstallProfile: 'commands/profile.install.yaml',
  RemoveProfile: 'commands/profile.remove.yaml',
};

/** Problems of a configuration profile: its top level, then each payload against its type's schema. */
export function checkProfile(profile: PlistValue): string[] {
  if (!isDictionary(profile)) return ['profile: not a dictionary'];
  const problems = checkKeys(profile, schema('profiles/TopLevel.yaml').payloadkeys, '');
  const payloads = Array.isArray(profile.PayloadContent) ? (profile.PayloadContent as PlistValue[]) : [];
  payloads.forEach((item, index) => {
    problems.push(...checkPayload(item, `PayloadContent[${index}]`));
  });
  return problems;
}

/** Problems of one payload: the keys common to all payloads, plus those of its PayloadType. */
export function checkPayload(item: PlistValue, where = 'payload'): string[] {
  if (!isDictionary(item)) return [`${where}: not a dictionary`];
  const file = typeof item.PayloadType === 'string' ? PAYLOAD_SCHEMAS[item.PayloadType] : undefined;
  if (!file) return [`${where}.PayloadType: no schema for ${JSON.stringify(item.PayloadType)}`];
  const keys = [...schema('profiles/CommonPayloadKeys.yaml').payloadkeys, ...schema(file).payloadkeys];
  return checkKeys(item, keys, where);
}

/** Problems of an MDM command: its envelope, then the Command dictionary against its RequestType's schema. */
export function checkCommand(command: PlistValue): string[] {
  if (!isDictionary(command)) return ['command: not a dictionary'];
  const problems: string[] = [];
  if (typeof command.CommandUUID !== 'string') problems.push('CommandUUID: missing or not a string');
  const body = command.Command;
  if (!isDictionary(body)) return [...problems, 'Command: missing or not a dictionary'];
  const file = typeof body.RequestType === 'string' ? COMMAND_SCHEMAS[body.RequestType] : undefined;
  if (!file) return [...problems, `Command.RequestType: no schema for ${JSON.stringify(body.RequestType)}`];
  const requestType: KeySpec = { key: 'RequestType', type: '<string>', presence: 'required' };
  return [...problems, ...checkKeys(body, [requestType, ...schema(file).payloadkeys], 'Command')];
}

/** Problems of a dictionary against a list of key specifications (a single `ANY` key lets any key through). */
export function checkKeys(value: PlistObject, specs: KeySpec[], where: string): string[] {
  const at = (key: string) => (where ? `${where}.${key}` : key);
  const any = specs.length === 1 && specs[0]?.key === 'ANY' ? specs[0] : undefined;
  if (any) return Object.entries(value).flatMap(([key, item]) => checkValue(item, any, at(key)));
  const problems: string[] = [];
  for (const spec of specs) {
    const item = value[spec.key];
    if (item === undefined) {
      if (spec.presence === 'required') problems.push(`${at(spec.key)}: required by Apple's schema, missing`);
    } else {
      problems.push(...checkValue(item, spec, at(spec.key)));
    }
  }
  const known = new Set(specs.map((spec) => spec.key));
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`${at(key)}: not in Apple's schema`);
  }
  return problems;
}

function checkValue(value: PlistValue, spec: KeySpec, where: string): string[] {
  if (!hasType(value, spec.type)) return [`${where}: expected ${spec.type}, got ${describe(value)}`];
  const problems = checkBounds(value, spec, where);
  if (spec.type === '<dictionary>' && spec.subkeys && isDictionary(value)) {
    problems.push(...checkKeys(value, spec.subkeys, where));
  }
  const itemSpec = spec.subkeys?.[0];
  if (spec.type === '<array>' && itemSpec && Array.isArray(value)) {
    const items = value as PlistValue[];
    const { min = 0, max = Number.POSITIVE_INFINITY } = itemSpec.repetition ?? {};
    if (items.length < min || items.length > max) {
      problems.push(`${where}: ${items.length} items, expected ${min}–${max}`);
    }
    items.forEach((item, index) => {
      problems.push(...checkValue(item, itemSpec, `${where}[${index}]`));
    });
  }
  return problems;
}

function checkBounds(value: PlistValue, spec: KeySpec, where: string): string[] {
  const problems: string[] = [];
  if (spec.rangelist && !spec.rangelist.includes(value)) {
    problems.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(spec.rangelist)}`);
  }
  if (typeof value === 'number' && spec.range) {
    const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = spec.range;
    if (value < min || value > max) problems.push(`${where}: ${value} is outside ${min}–${max}`);
  }
  if (typeof value === 'string' && spec.format && !new RegExp(spec.format).test(value)) {
    problems.push(`${where}: ${JSON.stringify(value)} does not match ${spec.format}`);
  }
  return problems;
}

function hasType(value: PlistValue, type: string): boolean {
  switch (type) {
    case '<string>':
      return typeof value === 'string';
    case '<integer>':
      return Number.isInteger(value);
    case '<real>':
      return typeof value === 'number';
    case '<boolean>':
      return typeof value === 'boolean';
    case '<date>':
      return value instanceof Date;
    case '<data>':
      return Buffer.isBuffer(value);
    case '<array>':
      return Array.isArray(value);
    case '<dictionary>':
      return isDictionary(value);
    case '<any>':
      return true;
    default:
      throw new Error(`unknown type ${type} in Apple's schema`);
  }
}

function isDictionary(value: PlistValue | undefined): value is PlistObject {
  return typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}

function describe(value: PlistValue): string {
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'data';
  if (value instanceof Date) return 'a date';
  return `${typeof value} ${JSON.stringify(value)}`;
}
