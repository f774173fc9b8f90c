// How a campaign recipient moves after it was handed to the outbox (SPEC §7): the send result
// (outbound/sender.ts), delivery statuses (inbox/statuses.ts), a reply within the attribution window
// (inbox/on-inbound-message.ts) and an opt-out (conversations/engine.ts). Each runs inside the
// caller's transaction; states only move forward, so late or repeated events change nothing.

import type { EventContext } from '../events/record-event.js';
import { recordCampaignReply, recordCampaignSendAccepted } from '../insights/insight-facts.js';
import { hourOf } from '../pricing/pricing-events.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import { pricingRepo } from '../store/pricing-repo.js';
import type { RecipientState } from '../store/tables.js';
import { appendOutcome, markLateFailure } from './auto-pause.js';

/** The outbox row the send was for. */
interface SentRow {
  id: string;
  campaign_recipient_id: string | null;
}

/**
 * A campaign send's answer takes its campaign's row lock before it writes anything (the outbox row, the
 * owner's pending count, the recipient): campaign first is the lock order of the feeder and of
 * pause / cancel, which take sends back from the outbox under that lock.
 */
export async function lockCampaignOfSend(trx: Db, row: SentRow): Promise<void> {
  if (row.campaign_recipient_id) await campaignsRepo.lockCampaignOfRecipient(trx, row.campaign_recipient_id);
}

export async function campaignSendAccepted(
  trx: Db,
  row: SentRow,
  wamid: string | null,
  ctx: EventContext,
): Promise<void> {
  const now = ctx.now;
  if (!row.campaign_recipient_id) return;
  const r = await campaignsRepo.getRecipient(trx, row.campaign_recipient_id);
  if (!r) return;
  // `failed` too when this very row failed before: root retried it (recovery retry_failed_sends).
  const from: RecipientState[] = r.outbox_id === row.id ? ['queued', 'failed'] : ['queued'];
  const moved = await campaignsRepo.moveRecipient(trx, r, from, 'sent', {
    wamid,
    sent_at: now,
    error_code: null,
    error_title: null,
    updated_at: now,
  });
  if (!moved) return;
  await recordCampaignSendAccepted(trx, r, ctx);
  await numberSend(trx, r, false);
}

/** Gives the recipient's send its number in the campaign's outcome window (auto-pause). */
async function numberSend(trx: Db, r: { id: string; campaign_id: string }, failed: boolean): Promise<void> {
  const w = await campaignsRepo.outcomeWindow(trx, r.campaign_id);
  const next = appendOutcome(w, failed);
  await campaignsRepo.setOutcomeWindow(trx, r.campaign_id, next.recent, w.sendsRecorded + 1);
  await campaignsRepo.patchRecipient(trx, r.id, { send_seq: next.seq });
}

/** A permanent failure, or retries given up (dead). */
export async function campaignSendFailed(
  trx: Db,
  row: SentRow,
  error: { code: number | null; title: string | null },
  now: number,
): Promise<void> {
  if (!row.campaign_recipient_id) return;
  const r = await campaignsRepo.getRecipient(trx, row.campaign_recipient_id);
  if (!r) return;
  const moved = await campaignsRepo.moveRecipient(trx, r, ['queued'], 'failed', {
    error_code: error.code,
    error_title: error.title,
    failed_at: now,
    updated_at: now,
  });
  // Only a permanent failure counts against the campaign (auto-pause); retries given up (dead) do not.
  if (moved && (await outboxRepo.get(trx, row.id))?.state === 'failed') await numberSend(trx, r, true);
}

/** A message's status moved (webhook or sandbox); `status` is the message's status afterwards. */
export async function campaignStatusChanged(
  trx: Db,
  wamid: string,
  status: string,
  error: { code: number | null; title: string | null } | undefined,
  now: number,
): Promise<void> {
  const r = await campaignsRepo.recipientByWamid(trx, wamid);
  if (!r) return;
  await campaignsRepo.lockCampaign(trx, r.campaign_id);
  if (status === 'delivered') {
    await campaignsRepo.moveRecipient(trx, r, ['sent'], 'delivered', { delivered_at: now, updated_at: now });
  } else if (status === 'read' || status === 'played') {
    await campaignsRepo.moveRecipient(trx, r, ['sent', 'delivered'], 'read', {
      read_at: now,
      ...(r.delivered_at == null ? { delivered_at: now } : {}),
      updated_at: now,
    });
  } else if (status === 'failed') {
    // Meta reports some failures (131026, 131049) after accepting the message.
    const moved = await campaignsRepo.moveRecipient(trx, r, ['sent'], 'failed', {
      error_code: error?.code ?? null,
      error_title: error?.title ?? null,
      failed_at: now,
      updated_at: now,
    });
    if (moved && r.send_seq != null) {
      const w = await campaignsRepo.outcomeWindow(trx, r.campaign_id);
      const recent = markLateFailure(w, r.send_seq);
      if (recent !== w.recent)
        await campaignsRepo.setOutcomeWindow(trx, r.campaign_id, recent, w.sendsRecorded);
    }
  }
}

/**
 * A customer wrote at `at`: their latest campaign send in the attribution window before it becomes
 * `replied`, and the conversation carries the campaign. Returns the campaign id when attributed.
 */
export async function attributeReply(
  trx: Db,
  input: { wa_id: string | null; conversation_id: string | null; at: number; now: number; window: number },
  ctx: Pick<EventContext, 'ids'>,
  /** What a read in this transaction already found none of (store/inbound-hints.ts): not looked for. */
  none: { followUpSends?: boolean; campaignSends?: boolean } = {},
): Promise<string | null> {
  // A follow-up sent in the window earns the reply too (cost per reply earned, SPEC §14).
  if (
    input.conversation_id &&
    !none.followUpSends &&
    (await followUpsRepo.markReplied(trx, input.conversation_id, input.at - input.window, input.at))
  ) {
    await pricingRepo.earnedReply(trx, hourOf(input.at), 'follow_up');
  }
  if (!input.wa_id || none.campaignSends) return null;
  const r = await campaignsRepo.latestSentTo(trx, input.wa_id, input.at - input.window, input.at);
  if (!r) return null;
  const moved = await campaignsRepo.moveRecipient(trx, r, ['sent', 'delivered', 'read'], 'replied', {
    replied_at: input.at,
    conversation_id: input.conversation_id,
    updated_at: input.now,
  });
  if (!moved) return null;
  await pricingRepo.earnedReply(trx, hourOf(input.at), 'campaign');
  if (r.sent_at !== null) {
    await recordCampaignReply(
      trx,
      { campaign_id: r.campaign_id, sent_at: r.sent_at },
      { ids: ctx.ids, now: input.now },
    );
  }
  if (input.conversation_id) {
    await conversationsRepo.update(trx, input.conversation_id, {
      campaign_id: r.campaign_id,
      updated_at: input.now,
    });
  }
  return r.campaign_id;
}

/**
 * Opt-out (SPEC §4): the contact's recipients not yet sent in every campaign become
 * `skipped_opted_out`, and their queued outbox rows are cancelled. A send already in flight is left
 * to finish (its result is recorded as usual).
 */
export async function skipOptedOutRecipients(trx: Db, contactId: string, now: number): Promise<number> {
  const numbers = (await contactsRepo.identities(trx, contactId))
    .filter((i) => i.kind === 'wa_id')
    .map((i) => i.value);
  let skipped = 0;
  for (const r of await campaignsRepo.queuedTo(trx, numbers)) {
    if (r.outbox_id) {
      const row = await outboxRepo.get(trx, r.outbox_id);
      if (row && row.state !== 'queued' && row.state !== 'cancelled') continue;
      if (row?.state === 'queued') await outboxRepo.cancelQueued(trx, [row.id], 'opted out', now);
    }
    if (
      await campaignsRepo.moveRecipient(trx, r, ['queued'], 'skipped_opted_out', {
        contact_id: contactId,
        updated_at: now,
      })
    )
      skipped++;
  }
  return skipped;
}
