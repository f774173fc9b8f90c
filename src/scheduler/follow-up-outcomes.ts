// What a send's answer means for its follow-up (SPEC §6): accepted → `sent`, `follow_up.sent`, the
// silence counted as covered, and the next follow-up of the sequence planned while the customer stays
// silent; failed or dead → `failed` with the reason. Called by outbound/send-result.ts in the
// transaction that records the answer.
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import { recordFollowUpAccepted } from '../insights/insight-facts.js';
import type { IdSource } from '../lib/ids.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { type FollowUpRow, followUpsRepo } from '../store/follow-ups-repo.js';
import { planNext } from './follow-ups.js';

export interface OutcomeContext {
  ids: IdSource;
  now: number;
  config: Config;
}

/** The follow-up of an accepted send, if the row was one; returned so the caller can plan after the engine. */
export async function followUpAccepted(
  trx: Db,
  followUpId: string | null,
  wamid: string | null,
  ctx: OutcomeContext,
): Promise<FollowUpRow | undefined> {
  const followUp = followUpId ? await followUpsRepo.get(trx, followUpId) : undefined;
  if (!followUp) return undefined;
  await followUpsRepo.update(trx, followUp.id, {
    state: 'sent',
    sent_wamid: wamid,
    lease_owner: null,
    lease_until: null,
    updated_at: ctx.now,
  });
  await recordEvent(
    trx,
    {
      type: 'follow_up.sent',
      conversation_id: followUp.conversation_id,
      data: { follow_up_id: followUp.id, rule_id: followUp.rule_id, sequence: followUp.sequence, wamid },
    },
    ctx,
  );
  await recordFollowUpAccepted(trx, followUp, ctx.config, ctx);
  return followUp;
}

/**
 * After the conversation took the business message: the next follow-up of the same silence, if the
 * sequence has one and the customer is still silent.
 */
export async function planAfterFollowUp(trx: Db, followUp: FollowUpRow, ctx: OutcomeContext): Promise<void> {
  const conv = await conversationsRepo.get(trx, followUp.conversation_id);
  if (conv?.queue_state === 'pending') await planNext(trx, conv, followUp.silence_from, ctx);
}

/** The send of a follow-up failed for good (refused, or retries given up). */
export async function followUpFailed(
  trx: Db,
  followUpId: string | null,
  reason: string,
  now: number,
): Promise<void> {
  if (!followUpId) return;
  await followUpsRepo.update(trx, followUpId, {
    state: 'failed',
    skip_reason: reason,
    lease_owner: null,
    lease_until: null,
    updated_at: now,
  });
}
