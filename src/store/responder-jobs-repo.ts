// Responder jobs as a queue (SPEC §4 auto-reply, SPEC §10): the engine leaves a pending job, the worker
// claims a batch in one statement with its instance as owner and a lease (on PostgreSQL the claim's
// select is FOR UPDATE SKIP LOCKED), renews the lease while it waits for the responder, and finishes
// each job only while it still holds it. A crashed instance's jobs are taken over once their lease
// ran out (its own at its next start), so no two instances ask the responder for the same job.
import type { Db } from './db.js';
import { forUpdate, skipLocked } from './locking.js';
import type { ResponderJobsTable } from './tables.js';

export type ResponderJob = ResponderJobsTable;

export const responderJobsRepo = Object.freeze({
  /**
   * Pending jobs not held by a live lease, oldest first, taken by `owner` until `leaseUntil` in one
   * statement (an expired lease of any owner is taken over). Returned oldest first.
   */
  async claimDue(
    db: Db,
    owner: string,
    now: number,
    leaseUntil: number,
    limit: number,
  ): Promise<ResponderJob[]> {
    if (limit <= 0) return [];
    const due = db
      .selectFrom('responder_jobs')
      .select('id')
      .where('state', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .orderBy('id')
      .limit(limit);
    // Picked once, in a materialized CTE (store/locking.ts says why).
    const rows = await db
      .with(
        (wb) => wb('due').materialized(),
        () => skipLocked(db, due),
      )
      .updateTable('responder_jobs')
      .set({ lease_owner: owner, lease_until: leaseUntil })
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .where('state', '=', 'pending')
      .returningAll()
      .execute();
    // RETURNING promises no order.
    return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  },

  /** Keeps `owner`'s leases on these jobs alive (it is about to wait for the responder). */
  async renew(db: Db, ids: string[], owner: string, leaseUntil: number): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('responder_jobs')
      .set({ lease_until: leaseUntil })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'pending')
      .execute();
  },

  /**
   * True when `owner` still holds the job (pending, its lease not taken over), locked for the rest of
   * the transaction on PostgreSQL: what the job then writes is written once.
   */
  async stillHeld(db: Db, id: string, owner: string): Promise<boolean> {
    const q = db
      .selectFrom('responder_jobs')
      .select('id')
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'pending');
    return (await forUpdate(db, q).executeTakeFirst()) !== undefined;
  },

  /** Done with `outcome`, if `owner` still holds it; true when this call finished it. */
  async finish(db: Db, id: string, owner: string, outcome: string, now: number): Promise<boolean> {
    const res = await db
      .updateTable('responder_jobs')
      .set((eb) => ({
        state: 'done',
        outcome,
        attempts: eb('attempts', '+', 1),
        lease_owner: null,
        lease_until: null,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },

  /** Gives jobs back unstarted (the worker is stopping): due again at once, for any instance. */
  async release(db: Db, ids: string[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('responder_jobs')
      .set({ lease_owner: null, lease_until: null })
      .where('id', 'in', ids)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'pending')
      .execute();
  },

  /** On start: this instance's jobs from a previous run (killed mid-job) are given back at once. */
  async releaseOwn(db: Db, owner: string): Promise<number> {
    const res = await db
      .updateTable('responder_jobs')
      .set({ lease_owner: null, lease_until: null })
      .where('lease_owner', '=', owner)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  },
});
