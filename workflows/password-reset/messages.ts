import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ErrorCode } from '../../domain/errors';
import type { FlowTimings } from '../../domain/timings';

export interface PasswordResetInput {
  organisation: string;
  email: string;
  timings: FlowTimings;
}

/** Asks for a reset code; answers the same whether or not the address has an account (no enumeration). */
export const requestResetUpdate = defineUpdate<void>('requestReset');
export const confirmResetUpdate = defineUpdate<void, [{ codeHash: string; passwordHash: string }]>('confirmReset');
/**
 * Why a confirmation would be refused now whatever code it brings (no code waiting, expired, used up, the password
 * already changed), or null when a right code would be taken: asked before the costly work of a new password.
 */
export const resetRefusalQuery = defineQuery<{ code: ErrorCode; message: string } | null>('resetRefusal');
