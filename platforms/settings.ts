import type { z } from 'zod';
import type { Platform } from '../domain/platform';
import { homeOf } from '.';

/**
 * A device template's `management` per platform: typed where it becomes what the device applies (Apple's MDM payloads,
 * the Android DPC's provisioning and settings), free-form where the organisation's own MDM applies it (Windows).
 */

/** The platform's schema for `management`, if it is typed. */
export const managementSchema = (platform: Platform): z.ZodType | undefined => homeOf(platform).settings?.schema;

/** A template's settings as people see them: Wi-Fi passwords replaced by whether one is set. */
export function shownManagement(platform: Platform, management: Record<string, unknown>): Record<string, unknown> {
  const settings = homeOf(platform).settings;
  const typed = settings?.schema.safeParse(management);
  return settings && typed?.success ? settings.shown(typed.data) : management;
}

/** A replacement's Wi-Fi networks sent without their password, for the same network as before, keep the stored one. */
export function keepWifiPasswords(
  platform: Platform,
  stored: Record<string, unknown>,
  sent: Record<string, unknown>,
): Record<string, unknown> {
  const kept = { ...sent };
  for (const part of homeOf(platform).settings?.wifiParts ?? []) {
    const before = stored[part] as { ssid?: unknown; password?: unknown } | undefined;
    const now = sent[part] as Record<string, unknown> | undefined;
    if (before?.password && now && typeof now === 'object' && !('password' in now) && now.ssid === before.ssid) {
      kept[part] = { ...now, password: before.password };
    }
  }
  return kept;
}
