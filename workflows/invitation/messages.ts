import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../../domain/actor';

export interface InvitationInput {
  organisation: string;
  email: string;
  /** Who invited: the supervisor's address, kept in the history as the actions' author. */
  invitedBy: string;
  ttlMs: number;
}

export type InvitationState = 'open' | 'accepted' | 'withdrawn' | 'expired';

export interface InvitationView {
  state: InvitationState;
  invitedBy: string;
  /** How many times the invitation was mailed (a resend replaces the link). */
  sent: number;
  expiresAt: string;
}

/** Mails the invitation again with a new link (the old one stops working). */
export const resendInvitationUpdate = defineUpdate<InvitationView, [Actor]>('resendInvitation');
export const withdrawInvitationUpdate = defineUpdate<InvitationView, [Actor]>('withdrawInvitation');
/** The invited manager accepts with the link's token (its keyed hash) and the credentials they chose. */
export const acceptInvitationUpdate = defineUpdate<
  InvitationView,
  [{ tokenHash: string; passwordHash: string; totpSecretSealed: string; totpLastStep?: number }]
>('acceptInvitation');
export const invitationQuery = defineQuery<InvitationView>('invitation');
/** Whether a link's token (its keyed hash) is the newest mailing's: a link sent again is dead before it is used. */
export const invitationLinkQuery = defineQuery<boolean, [string]>('invitationLink');
