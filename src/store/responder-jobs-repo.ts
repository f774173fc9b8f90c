// Responder jobs as a queue (SPEC §4 auto-reply, SPEC §10): the engine leaves a pending job, the worker
// claims a batch in one statement with its instance as owner and a lease (on PostgreSQL the claim's
// select is FOR UPDATE SKIP LOCKED), renews the lease while it waits for the responder, and finishes
// each job only while it still holds it. A crashed instance's jobs are taken over once their lease
// ran out (its own at its next start), so no two instances ask the responder for the same job.
import { sql } from 'kysely';
import type { Db } from './db.js';
import {
  forUpdate,
  isPostgres,
  preparedClaim,
  type QueueWhere,
  releaseLeases,
  renewLeases,
  settleHeld,
} from './locking.js';
import type { ResponderJobsTable } from './tables.js';

export type ResponderJob = ResponderJobsTable;

const pending: QueueWhere<'responder_jobs'> = (eb) => eb('state', '=', 'pending');
const claimJobs = preparedClaim({ table: 'responder_jobs', due: pending, order: ['id'], guard: pending });

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
    return claimJobs(db, owner, now, leaseUntil, limit);
  },

  /**
   * Serialises responder decisions about one conversation across instances for the rest of the
   * transaction (PostgreSQL; SQLite has one writer). An advisory lock, not the conversation's row
   * lock: the engine and people's actions writing the conversation never wait for a responder.
   */
  async lockConversation(db: Db, conversationId: string): Promise<void> {
    if (!isPostgres(db)) return;
    await sql`select pg_advisory_xact_lock(hashtext(${`responder:${conversationId}`}))`.execute(db);
  },

  /** Keeps `owner`'s leases on these jobs alive (it is about to wait for the responder). */
  async renew(db: Db, ids: string[], owner: string, leaseUntil: number): Promise<void> {
    await renewLeases(db, { table: 'responder_jobs', ids, owner, leaseUntil, guard: pending });
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
    return settleHeld(db, {
      table: 'responder_jobs',
      id,
      owner,
      guard: pending,
      set: (eb) => ({ state: 'done', outcome, attempts: eb('attempts', '+', 1), updated_at: now }),
    });
  },

  /** Gives jobs back unstarted (the worker is stopping): due again at once, for any instance. */
  async release(db: Db, ids: string[], owner: string): Promise<void> {
    await releaseLeases(db, { table: 'responder_jobs', ids, owner, guard: pending });
  },

  /** On start: this instance's jobs from a previous run (killed mid-job) are given back at once. */
  async releaseOwn(db: Db, owner: string): Promise<number> {
    return releaseLeases(db, { table: 'responder_jobs', owner, guard: pending });
  },
});
