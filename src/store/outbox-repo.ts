// The outbox (SPEC §5): every outbound message is a row before any network call. queued → sending →
// sent | failed | dead (| cancelled while still queued). A row held by this process's send queue
// carries a lease, so feeding the queue never takes the same row twice. Keeps the conversation's
// pending_outbound counter (outbound not yet accepted by the API) and the insights' per-agent and
// per-channel counts of the same in step with the rows.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { insightsRepo, outboundOwner } from './insights-repo.js';
import type { OutboxKind, OutboxState, OutboxTable } from './tables.js';

export type OutboxRow = OutboxTable;

/** States in which a row still counts as "not yet accepted by the API". */
const UNSENT: OutboxState[] = ['queued', 'sending'];

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
   * Due queued rows not held by a lease, highest priority first, then oldest due; each gets a lease
   * until `leaseUntil`. Bounded by `limit`, so memory follows the queue's capacity, not the backlog.
   * (On PostgreSQL the select takes FOR UPDATE SKIP LOCKED, SPEC §10.)
   */
  async claimForQueue(
    db: Db,
    now: number,
    leaseUntil: number,
    limit: number,
    excludePhoneNumbers: string[] = [],
  ): Promise<OutboxRow[]> {
    if (limit <= 0) return [];
    let q = db.selectFrom('outbox').selectAll();
    if (excludePhoneNumbers.length > 0) q = q.where('phone_number_id', 'not in', excludePhoneNumbers);
    const rows = await q
      .where('state', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('priority', 'desc')
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    await db
      .updateTable('outbox')
      .set({ lease_until: leaseUntil })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .where('state', '=', 'queued')
      .execute();
    return rows;
  },

  /** Gives leased rows back (the queue was full or is closing); they stay queued. */
  async releaseLeases(db: Db, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await db.updateTable('outbox').set({ lease_until: null }).where('id', 'in', ids).execute();
  },

  /**
   * The last write before the network call. False when the row is no longer queued (cancelled by an
   * opt-out or a customer reply meanwhile): then it must not be sent.
   */
  async markSending(db: Db, id: string, now: number): Promise<boolean> {
    const res = await db
      .updateTable('outbox')
      .set((eb) => ({ state: 'sending', attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', '=', id)
      .where('state', '=', 'queued')
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
      .set({ state, error_code: error.code, error_title: error.title, lease_until: null, updated_at: now })
      .where('id', '=', row.id)
      .execute();
    await bumpPending(db, row, -1);
  },

  /**
   * On start: rows left in `sending` by a crash go back to `queued` (the one duplicate window of
   * SPEC §5: the API may have accepted the message before we could write it down), and leases of a
   * previous run are dropped. Returns how many rows were in `sending`.
   */
  async recoverAfterRestart(db: Db, now: number): Promise<number> {
    const res = await db
      .updateTable('outbox')
      .set({ state: 'queued', lease_until: null, updated_at: now })
      .where('state', '=', 'sending')
      .executeTakeFirst();
    await db
      .updateTable('outbox')
      .set({ lease_until: null })
      .where('state', '=', 'queued')
      .where('lease_until', 'is not', null)
      .execute();
    return Number(res.numUpdatedRows);
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
