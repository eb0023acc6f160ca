/** Timing rules, fixed for a workflow's whole life at its start. */

/** How long a managed device's run waits for the device when its timings say nothing (runs before Apple MDM). */
export const DEFAULT_SETTINGS_TIMEOUT_MS = 86_400_000;

export interface FlowTimings {
  registrationTtlMs: number;
  codeTtlMs: number;
  linkTtlMs: number;
  resendIntervalMs: number;
  maxCodeAttempts: number;
  maxResends: number;
  /** How long before a provisioning link expires its owner is reminded; absent in runs started before reminders. */
  linkReminderMs?: number;
  /** How long a managed device's run waits for its answer to the settings command; absent in runs before Apple MDM. */
  settingsTimeoutMs?: number;
}

/** The rules of a code sent to prove something (an e-mail address, a phone number): those of the flow's timings. */
export type CodeRules = Pick<FlowTimings, 'codeTtlMs' | 'maxCodeAttempts' | 'maxResends' | 'resendIntervalMs'>;
export const codeRulesOf = ({ codeTtlMs, maxCodeAttempts, maxResends, resendIntervalMs }: FlowTimings): CodeRules => ({
  codeTtlMs,
  maxCodeAttempts,
  maxResends,
  resendIntervalMs,
});
