import type { z } from 'zod';
import type { Platform } from '../domain/platform';
import { androidManagement, redactAndroidManagement } from './android/settings';
import { appleManagement, redactAppleManagement } from './apple/settings';

/**
 * A device template's `management` per platform: typed where it becomes what the device applies (Apple's MDM payloads,
 * the Android DPC's provisioning and settings), free-form where the organisation's own MDM applies it (Windows).
 */
const TYPED: Partial<Record<Platform, z.ZodType>> = {
  ios: appleManagement,
  macos: appleManagement,
  android: androidManagement,
};

/** The parts of a template's settings that are Wi-Fi networks, whose passwords are never shown back. */
const WIFI_PARTS: Partial<Record<Platform, string[]>> = {
  ios: ['wifi'],
  macos: ['wifi'],
  android: ['setupWifi', 'wifi'],
};

/** The platform's schema for `management`, if it is typed. */
export const managementSchema = (platform: Platform): z.ZodType | undefined => TYPED[platform];

/** A template's settings as people see them: Wi-Fi passwords replaced by whether one is set. */
export function shownManagement(platform: Platform, management: Record<string, unknown>): Record<string, unknown> {
  const typed = TYPED[platform]?.safeParse(management);
  if (!typed?.success) return management;
  return platform === 'android'
    ? redactAndroidManagement(typed.data as z.infer<typeof androidManagement>)
    : redactAppleManagement(typed.data as z.infer<typeof appleManagement>);
}

/** A replacement's Wi-Fi networks sent without their password, for the same network as before, keep the stored one. */
export function keepWifiPasswords(
  platform: Platform,
  stored: Record<string, unknown>,
  sent: Record<string, unknown>,
): Record<string, unknown> {
  const kept = { ...sent };
  for (const part of WIFI_PARTS[platform] ?? []) {
    const before = stored[part] as { ssid?: unknown; password?: unknown } | undefined;
    const now = sent[part] as Record<string, unknown> | undefined;
    if (before?.password && now && typeof now === 'object' && !('password' in now) && now.ssid === before.ssid) {
      kept[part] = { ...now, password: before.password };
    }
  }
  return kept;
}
