import type { z } from 'zod';
import type { Device, Organisation, User } from '../db/models';
import type { Platform } from '../domain/platform';
import type { ServiceDeps } from '../services/context';
import { androidHome } from './android';
import { appleHome } from './apple';
import type { EnrolmentPayload, EnrolmentStart } from './link';
import type { SettingsPart } from './template-form';
import { windowsHome } from './windows';

/**
 * The interface every platform implements, and the registry the rest of the code asks: nothing outside platforms/
 * branches on a platform's name. A new platform is a folder here that exports its home, and one line in `HOMES` (and
 * in platforms/traits.ts for its pure traits, which `traitsOf` gives: they are not repeated here).
 */
export interface PlatformHome {
  /** A decorative icon: SVG shapes in a 32 × 32 view box (the platform's name says what it is). */
  icon: string;
  /** The typed form of its device templates' `management`, when the service applies it (free-form otherwise). */
  settings?: TemplateSettings;
  /**
   * How the device of a live link starts enrolling, from the organisation's settings as they are now; undefined when
   * something it needs is missing (the organisation's Windows MDM, a valid Android template).
   */
  start(context: StartContext): Promise<EnrolmentStart | undefined>;
  /** The steps an owner is shown for a way of starting (the platform's own, when it cannot start now). */
  instructions(start?: EnrolmentStart): string[];
  /** The button that starts enrolment on the device itself, for a way of starting that has one besides the link. */
  startButton?(start: EnrolmentStart): { label: string; id: string; url: string } | undefined;
  /**
   * What the link delivers when the device opens it, instead of the page that starts its enrolment (Apple's
   * configuration profile).
   */
  deliver?(deps: ServiceDeps, device: Device): Promise<EnrolmentPayload>;
  /** The settings a device app applies, answered at its check-in: from its template's `management`, if valid. */
  deviceAppSettings?(management: unknown): unknown;
  /** The device's answer to its settings, when it refused them, as one sentence for people. */
  settingsErrorText?(detail: unknown): string | undefined;
  /** Why a device app's own check-in (`POST /api/provision/<token>/checkin`) is refused; undefined: it is taken. */
  deviceAppCheckInRefusal?: string;
  /** Why an organisation's MDM may not report the device (`POST /api/mdm/events`); undefined: it may. */
  mdmReportRefusal?: string;
}

export interface TemplateSettings {
  schema: z.ZodType;
  /** How the admin console's template form shows and reads them. */
  form: SettingsPart[];
  /** The settings as people see them: Wi-Fi passwords replaced by whether one is set. */
  shown(management: unknown): Record<string, unknown>;
  /** The parts that are Wi-Fi networks, whose passwords are never shown back. */
  wifiParts: string[];
}

export interface StartContext {
  /** The link's token, and the service's public URL it is under. */
  token: string;
  publicUrl: string;
  /** The link's device, its owner and their organisation as they are now (read only by platforms that need them). */
  records(): Promise<{ device: Device; owner: User; organisation: Organisation } | undefined>;
}

const HOMES: Record<Platform, PlatformHome> = {
  android: androidHome,
  ios: appleHome.ios,
  macos: appleHome.macos,
  windows: windowsHome,
};

export const homeOf = (platform: Platform): PlatformHome => HOMES[platform];

/** The steps for a way of starting (the platform's own, when there is no way to start now). */
export const instructionsFor = (platform: Platform, start?: EnrolmentStart): string[] =>
  HOMES[platform].instructions(start);
