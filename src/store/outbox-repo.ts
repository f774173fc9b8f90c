// The outbox (SPEC §5): every outbound message is a row before any network call. queued → sending →
// sent | failed | dead (| cancelled while still queued). A row held by an instance's send queue or
// being sent by it carries that instance as owner and a lease (SPEC §10), claimed in one statement and
// renewed while the instance holds it: no two instances send the same row, and a crashed instance's
// rows are taken over only once its leases run out. Keeps the conversation's
// pending_outbound counter (outbound not yet accepted by the API) and the insights' per-agent and
// per-channel counts of the same in step with the rows.
import { type Expression, type SqlBool, sql } from 'kysely';
import type { Db } from './db.js';
import { insightsRepo, outboundOwner } from './insights-repo.js';
import { ownerAlive } from './instance-presence.js';
import { claimDue, isPostgres, type QueueWhere, releaseLeases, renewLeases } from './locking.js';
import type { OutboxKind, OutboxState, OutboxTable } from './tables.js';

export type OutboxRow = OutboxTable;

/** States in which a row still counts as "not yet accepted by the API". */
const UNSENT: OutboxState[] = ['queued', 'sending'];
const unsent: QueueWhere<'outbox'> = (eb) => eb('state', 'in', UNSENT);

async function bumpPending(
  db: Db,
  row: Pick<OutboxRow, 'conversation_id' | 'phone_number_id'>,
  delta: number,
): Promise<void> {
  // Insights count these per agent and channel without reading the outbox (insights-repo.ts).
  if (row.conversation_id === null) {
    await insightsRepo.bumpOutboundPending(
      db,
      outboundOwner({ phone_number_id: row.phone_number_id }),
      delta,
    );
    return;
  }
  // CASE rather than max(a, b): the two-argument max is SQLite's; PostgreSQL calls it greatest.
  const conv = await db
    .updateTable('conversations')
    .set({
      pending_outbound: sql<number>`case when pending_outbound + ${delta} < 0 then 0 else pending_outbound + ${delta} end`,
    })
    .where('id', '=', row.conversation_id)
    .returning('agent_id')
    .executeTakeFirst();
  await insightsRepo.bumpOutboundPending(db, outboundOwner({ agent_id: conv?.agent_id ?? null }), delta);
}

/**
 * On PostgreSQL, a `sending` row's owner must also be gone (its presence lock free,
 * instance-presence.ts) before another instance sends the row again: a lease that ran out under a
 * live, stalled owner is no crash, and its send may be answered any moment. SQLite: one daemon.
 */
function ownerGone(db: Db): Expression<SqlBool>[] {
  return isPostgres(db) ? [sql<SqlBool>`not ${ownerAlive('outbox')}`] : [];
}

export const outboxRepo = Object.freeze({
  async insert(db: Db, row: OutboxRow): Promise<void> {
    await db.insertInto('outbox').values(row).execute();
    if (UNSENT.includes(row.state)) await bumpPending(db, row, 1);
  },

  /** The send the API accepted under `wamid` (a status webhook names only the wamid). */
  async findByWamid(db: Db, wamid: string): Promise<OutboxRow | undefined> {
    return db.selectFrom('outbox').selectAll().where('wamid', '=', wamid).executeTakeFirst();
  },

  async get(db: Db, id: string): Promise<OutboxRow | undefined> {
    return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /**
   * Due queued rows not held by a live lease, highest priority first, then oldest due, taken by
   * `owner` until `leaseUntil` in one statement (an expired lease of any owner is taken over; on
   * PostgreSQL the inner select is FOR UPDATE SKIP LOCKED). Bounded by `limit`, so memory follows the
   * queue's capacity, not the backlog. Returned in claim order.
   */
  async claimForQueue(
    db: Db,
    owner: string,
    now: number,
    leaseUntil: number,
    limit: number,
    excludePhoneNumbers: string[] = [],
  ): Promise<OutboxRow[]> {
    return claimDue(db, {
      table: 'outbox',
      owner,
      now,
      leaseUntil,
      limit,
      due: (eb) =>
        eb.and([
          ...(excludePhoneNumbers.length > 0 ? [eb('phone_number_id', 'not in', excludePhoneNumbers)] : []),
          eb('state', '=', 'queued'),
          eb('next_attempt_at', '<=', now),
        ]),
      order: [['priority', 'desc'], 'next_attempt_at', 'id'],
      guard: (eb) => eb('state', '=', 'queued'),
    });
  },

  /** Gives `owner`'s leased rows back (the queue was full or is closing); they stay queued. */
  async releaseLeases(db: Db, ids: string[], owner: string): Promise<void> {
    await releaseLeases(db, { table: 'outbox', ids, owner, guard: unsent });
  },

  /**
   * Keeps `owner`'s leases alive while it holds the rows (waiting in its send queue, or being sent).
   * Returns how many it still holds.
   */
  async renewLeases(db: Db, owner: string, leaseUntil: number): Promise<number> {
    return renewLeases(db, { table: 'outbox', owner, leaseUntil, guard: unsent });
  },

  /**
   * Rows left `sending` by an instance whose lease ran out (it crashed mid-send) go back to `queued`:
   * the one duplicate window of SPEC §5 (the API may have accepted the message before it was written
   * down). A live instance renews its leases, so its sends are never touched; nor are the caller's
   * own. Returns how many.
   */
  async requeueExpiredSending(db: Db, owner: string, now: number): Promise<number> {
    return releaseLeases(db, {
      table: 'outbox',
      set: { state: 'queued', updated_at: now },
      guard: (eb) =>
        eb.and([
          eb('state', '=', 'sending'),
          eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]),
          // The caller's own sends are in flight in its own queues: it settles them itself.
          eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '<>', owner)]),
          ...ownerGone(db),
        ]),
    });
  },

  /**
   * The last write before the network call, by the owner of the row's lease (extended to cover the
   * send). False when the row is no longer queued (cancelled by an opt-out or a customer reply
   * meanwhile) or no longer this owner's (its lease ran out and another instance took it): then it
   * must not be sent.
   */
  async markSending(db: Db, id: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    const res = await db
      .updateTable('outbox')
      .set((eb) => ({
        state: 'sending',
        attempts: eb('attempts', '+', 1),
        lease_until: leaseUntil,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('state', '=', 'queued')
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },

  async markSent(db: Db, row: OutboxRow, wamid: string | null, now: number): Promise<void> {
    await db
      .updateTable('outbox')
      .set({
        state: 'sent',
        wamid,
        sent_at: now,
        updated_at: now,
        lease_owner: null,
        lease_until: null,
        error_code: null,
        error_title: null,
      })
      .where('id', '=', row.id)
      .execute();
    await bumpPending(db, row, -1);
  },

  /** Back to queued, due at `at` (a retry after backoff, or parked while the channel is stopped). */
  async requeue(
    db: Db,
    id: string,
    at: number,
    now: number,
    error: { code: number | null; title: string | null } | null,
    opts: { refundAttempt?: boolean } = {},
  ): Promise<void> {
    await db
      .updateTable('outbox')
      .set((eb) => ({
        state: 'queued',
        next_attempt_at: at,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
        ...(error ? { error_code: error.code, error_title: error.title } : {}),
        ...(opts.refundAttempt
          ? {
              attempts: sql<number>`case when ${eb.ref('attempts')} > 0 then ${eb.ref('attempts')} - 1 else 0 end`,
            }
          : {}),
      }))
      .where('id', '=', id)
      .execute();
  },

  async markFinal(
    db: Db,
    row: OutboxRow,
    state: 'failed' | 'dead' | 'cancelled',
    error: { code: number | null; title: string | null },
    now: number,
  ): Promise<void> {
    await db
      .updateTable('outbox')
      .set({
        state,
        error_code: error.code,
        error_title: error.title,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .execute();
    await bumpPending(db, row, -1);
  },

  /**
   * On start: this instance's own rows from its previous run are its to resume at once (rows it left
   * `sending` go back to `queued`: the one duplicate window of SPEC §5, the API may have accepted the
   * message before it was written down; its queued leases are dropped), and rows whose owner's lease
   * ran out are taken over. Another live instance's rows are not touched. Returns how many rows went
   * from `sending` back to `queued`.
   */
  async recoverAfterRestart(db: Db, owner: string, now: number): Promise<number> {
    const requeued = await releaseLeases(db, {
      table: 'outbox',
      set: { state: 'queued', updated_at: now },
      guard: (eb) =>
        eb.and([
          eb('state', '=', 'sending'),
          eb.or([
            eb('lease_owner', '=', owner),
            eb.and([eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]), ...ownerGone(db)]),
          ]),
        ]),
    });
    await releaseLeases(db, { table: 'outbox', owner, guard: (eb) => eb('state', '=', 'queued') });
    return requeued;
  },

  /** Cancels still queued rows of these kinds to a contact (opt-out). Returns the rows cancelled. */
  async cancelQueuedForContact(
    db: Db,
    contactId: string,
    kinds: OutboxKind[],
    reason: string,
    now: number,
  ): Promise<OutboxRow[]> {
    const rows = await db
      .selectFrom('outbox')
      .selectAll()
      .where('contact_id', '=', contactId)
      .where('state', '=', 'queued')
      .where('kind', 'in', kinds)
      .execute();
    for (const r of rows) await outboxRepo.markFinal(db, r, 'cancelled', { code: null, title: reason }, now);
    return rows;
  },

  /** Cancels the queued rows among `ids`. */
  async cancelQueued(db: Db, ids: string[], reason: string, now: number): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await db
      .selectFrom('outbox')
      .selectAll()
      .where('id', 'in', ids)
      .where('state', '=', 'queued')
      .execute();
    for (const r of rows) await outboxRepo.markFinal(db, r, 'cancelled', { code: null, title: reason }, now);
    return rows.length;
  },

  /**
   * True when a reply to the conversation (the responder's or a person's) was queued after `afterId`
   * (ids sort by creation) and is queued, on its way or sent: a responder job older than that reply
   * has been answered by it.
   */
  async replyQueuedAfter(db: Db, conversationId: string, afterId: string): Promise<boolean> {
    const row = await db
      .selectFrom('outbox')
      .select('id')
      .where('conversation_id', '=', conversationId)
      .where('kind', 'in', ['reply', 'manual'])
      .where('id', '>', afterId)
      .where('state', 'in', ['queued', 'sending', 'sent'])
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Failed and dead rows, oldest first (all of them, or those among `ids`), for recovery. */
  async listFailed(db: Db, limit: number, ids?: string[]): Promise<OutboxRow[]> {
    if (ids?.length === 0) return [];
    let q = db.selectFrom('outbox').selectAll().where('state', 'in', ['failed', 'dead']);
    if (ids) q = q.where('id', 'in', ids);
    return q.orderBy('id').limit(limit).execute();
  },

  /** Recovery: a failed or dead row goes back to `queued` with fresh attempts, due now. */
  async requeueFailed(db: Db, row: OutboxRow, now: number): Promise<boolean> {
    const res = await db
      .updateTable('outbox')
      .set({
        state: 'queued',
        attempts: 0,
        next_attempt_at: now,
        lease_owner: null,
        lease_until: null,
        error_code: null,
        error_title: null,
        updated_at: now,
      })
      .where('id', '=', row.id)
      .where('state', 'in', ['failed', 'dead'])
      .executeTakeFirst();
    const moved = Number(res.numUpdatedRows) > 0;
    if (moved) await bumpPending(db, row, 1);
    return moved;
  },

  /** Rows not yet accepted by the API (queued or sending), by state. */
  async countUnsent(db: Db): Promise<{ queued: number; sending: number }> {
    const rows = await db
      .selectFrom('outbox')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', UNSENT)
      .groupBy('state')
      .execute();
    const out = { queued: 0, sending: 0 };
    for (const r of rows) out[r.state as 'queued' | 'sending'] = Number(r.n);
    return out;
  },

  async countInState(db: Db, state: OutboxState): Promise<number> {
    const row = await db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', state)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
});
