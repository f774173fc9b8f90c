// The inbox: every signed delivery's raw body, committed before the webhook answers 200, and the
// processing state of each (pending → processed, or retried with backoff and parked as dead).
// Pending rows are claimed in one statement by an instance with a lease (SPEC §10): several daemons on
// one PostgreSQL never process the same delivery at once, and a crashed one's rows wait out its lease.
import type { Db } from './db.js';
import { forUpdate, preparedClaim, releaseLeases } from './locking.js';
import type { InboxState, InboxTable } from './tables.js';
import { asDurableCommit } from './transactions.js';

export type InboxRow = InboxTable;

const claimInbox = preparedClaim({
  table: 'inbox',
  due: (eb, now) => eb.and([eb('state', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
  order: ['id'],
  guard: (eb) => eb('state', '=', 'pending'),
});

export const inboxRepo = Object.freeze({
  /** One multi-row insert: one statement, one commit (one fsync) for a whole group of deliveries. */
  async insertMany(db: Db, rows: InboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await asDurableCommit(db, () => db.insertInto('inbox').values(rows).execute());
  },

  async get(db: Db, id: string): Promise<InboxRow | undefined> {
    return db.selectFrom('inbox').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /**
   * Due pending rows not held by a live lease, oldest first (ids are ULIDs: id order is received
   * order), taken by `owner` until `leaseUntil` in one statement; an expired lease of any owner is
   * taken over.
   */
  async claimDue(db: Db, owner: string, now: number, leaseUntil: number, limit: number): Promise<InboxRow[]> {
    return claimInbox(db, owner, now, leaseUntil, limit);
  },

  /**
   * Of the rows `owner` claimed, those it still holds (its lease was not taken over after running
   * out), locked for the rest of the processing transaction on PostgreSQL.
   */
  async stillHeld(db: Db, ids: string[], owner: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const q = db
      .selectFrom('inbox')
      .select('id')
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'pending');
    return new Set((await forUpdate(db, q).execute()).map((r) => r.id));
  },

  /** Gives claimed rows back unprocessed (a slice ran out of time): due again for any instance. */
  async release(db: Db, ids: string[], owner: string): Promise<void> {
    await releaseLeases(db, { table: 'inbox', ids, owner });
  },

  /** On start: this instance's leases from a previous run (killed mid-slice) are given back at once. */
  async releaseOwnLeases(db: Db, owner: string): Promise<number> {
    return releaseLeases(db, { table: 'inbox', owner, guard: (eb) => eb('state', '=', 'pending') });
  },

  /**
   * Due pending rows `owner` could claim now or holds itself: another instance's live lease is its
   * work, not this one's (a drain that counted it would wait on, or blame, the wrong instance).
   */
  async countDue(db: Db, now: number, owner: string): Promise<number> {
    const row = await db
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) =>
        eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now), eb('lease_owner', '=', owner)]),
      )
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async countInState(db: Db, state: InboxState): Promise<number> {
    const row = await db
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', state)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async markProcessed(db: Db, ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('inbox')
      .set({ state: 'processed', processed_at: now, last_error: null, lease_owner: null, lease_until: null })
      .where('id', 'in', ids)
      .execute();
  },

  async markRetry(db: Db, id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await db
      .updateTable('inbox')
      .set({
        attempts,
        next_attempt_at: nextAttemptAt,
        last_error: error,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .execute();
  },

  async markDead(db: Db, id: string, attempts: number, error: string, now: number): Promise<void> {
    await db
      .updateTable('inbox')
      .set({
        state: 'dead',
        attempts,
        last_error: error,
        processed_at: now,
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', id)
      .execute();
  },

  /**
   * Recovery: every dead letter back to pending with fresh attempts. Returns how many. processed_at
   * stays set: it tells the processor the row was handled before (its old error records go).
   */
  async replayDeadLetters(db: Db, now: number, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    let q = db
      .updateTable('inbox')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null })
      .where('state', '=', 'dead');
    if (ids) q = q.where('id', 'in', ids);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  },

  /**
   * Recovery: processed and dead deliveries received at or after `since` are processed again.
   * Safe because processing is idempotent (wamid, status and event keys). Rejected rows stay rejected.
   */
  async reprocessInboxSince(db: Db, since: number, now: number, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    let q = db
      .updateTable('inbox')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null })
      .where('state', 'in', ['processed', 'dead'])
      .where('received_at', '>=', since);
    if (ids) q = q.where('id', 'in', ids);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  },
});
