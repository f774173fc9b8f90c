// One inbox row → its effects, inside the caller's transaction: contacts, conversations and messages
// (in message-timestamp order), status events, other webhook fields and the template cache. A change
// or item that cannot be used is recorded in webhook_errors and skipped; the rest goes on.
// The parts: collect-items.ts reads the body, inbound-message.ts / echoes.ts store messages,
// statuses.ts statuses, webhook-fields.ts the other fields.
import { loopTurnsEvery } from '../lib/loop-turns.js';
import type { Db } from '../store/db.js';
import type { WebhookErrorsTable } from '../store/tables.js';
import { webhookLogRepo } from '../store/webhook-log-repo.js';
import { delivery as deliverySchema } from '../webhook/payload.js';
import { collect } from './collect-items.js';
import { ItemError, PermanentDeliveryError } from './delivery-errors.js';
import { storeEcho } from './echoes.js';
import { followIdentityChange } from './identity-changes.js';
import { storeInboundMessage } from './inbound-message.js';
import type { ProcessContext } from './process-context.js';
import { statusRank } from './status-progress.js';
import { recordStatus } from './statuses.js';
import { applyWebhookField } from './webhook-fields.js';

export interface DeliverySummary {
  messages: number;
  duplicates: number;
  statuses: number;
  events: number;
  errors: number;
}

/**
 * How long one delivery may hold the event loop before it yields a turn, ms (SPEC §9a: < 50). Short,
 * because node accepts one new connection per turn of the loop: with 128 trickling attackers queued for
 * accept, a fresh /healthz connection waited seconds on a loaded box (bench/hostile/probe.ts --fresh,
 * same window, load 14-20: p50 1.2-4.4 s with 10 ms turns, 0.1-0.15 s with 1 ms turns); a turn costs
 * microseconds, and a delivery of a few messages never reaches one slice.
 */
const ITEM_SLICE_MS = 1;

export async function processDelivery(
  trx: Db,
  row: { id: string; body: string; received_at: number; processed_at: number | null },
  ctx: ProcessContext,
): Promise<DeliverySummary> {
  let json: unknown;
  try {
    json = JSON.parse(row.body);
  } catch {
    throw new PermanentDeliveryError('the stored body is not JSON');
  }
  const parsed = deliverySchema.safeParse(json);
  if (!parsed.success)
    throw new PermanentDeliveryError('the stored body is not a whatsapp_business_account delivery');

  const errors: WebhookErrorsTable[] = [];
  const addError = (location: string, code: string, message: string) =>
    errors.push({ id: ctx.ids.next(), inbox_id: row.id, location, code, message, created_at: ctx.now });

  // Between items: a turn of the event loop every slice, however many items the delivery carries.
  const between = loopTurnsEvery(ITEM_SLICE_MS);
  const work = await collect(parsed.data.entry, addError, row.received_at, between);
  const summary: DeliverySummary = { messages: 0, duplicates: 0, statuses: 0, events: 0, errors: 0 };

  // BSUID changes first, so the messages of this delivery find the contact they now belong to.
  for (const u of work.identityUpdates) {
    try {
      await followIdentityChange(
        trx,
        {
          wa_id: u.update.wa_id,
          previous_user_id: u.update.user_id.previous,
          current_user_id: u.update.user_id.current,
          source: 'user_id_update',
          at: u.update.timestamp ?? u.at,
        },
        {
          ids: ctx.ids,
          now: ctx.now,
          logger: ctx.logger,
          warn: (code, message) => addError(u.loc, code, message),
        },
      );
    } catch (err) {
      if (!(err instanceof ItemError)) throw err;
      addError(u.loc, err.code, err.message);
    }
    await between();
  }

  // A batch is applied whole, in message-timestamp order (stable for equal timestamps).
  work.messages.sort((a, b) => a.msg.timestamp - b.msg.timestamp || a.order - b.order);
  for (const m of work.messages) {
    try {
      const stored =
        m.kind === 'echo'
          ? await storeEcho(trx, m, {
              ids: ctx.ids,
              now: ctx.now,
              config: ctx.config,
              warn: (code, message) => addError(m.loc, code, message),
            })
          : await storeInboundMessage(trx, m, ctx, addError);
      if (stored) summary.messages += 1;
      else summary.duplicates += 1;
    } catch (err) {
      if (!(err instanceof ItemError)) throw err;
      addError(m.loc, err.code, err.message);
    }
    await between();
  }

  work.statuses.sort(
    (a, b) =>
      a.status.timestamp - b.status.timestamp ||
      statusRank(a.status.status) - statusRank(b.status.status) ||
      a.order - b.order,
  );
  for (const s of work.statuses) {
    const outcome = await recordStatus(trx, s.status, s.raw, {
      ids: ctx.ids,
      now: ctx.now,
      config: ctx.config,
      inboxId: row.id,
    });
    if (outcome === 'new') summary.statuses += 1;
    await between();
  }

  for (const e of work.events) {
    if (await applyWebhookField(trx, e, row, ctx)) summary.events += 1;
    await between();
  }

  // A row processed before (replayed or reprocessed) replaces its old error records.
  if (row.processed_at !== null) await webhookLogRepo.clearErrors(trx, row.id);
  await webhookLogRepo.recordErrors(trx, errors);
  summary.errors = errors.length;
  if (errors.length > 0) {
    ctx.logger.warn(
      {
        event: 'inbox.item_errors',
        inbox_id: row.id,
        errors: errors.map((e) => ({ location: e.location, code: e.code })),
      },
      `${errors.length} part(s) of delivery ${row.id} could not be processed and were skipped`,
    );
  }
  return summary;
}
