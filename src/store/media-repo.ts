// Media rows (SPEC §12): inbound downloads as a durable queue (claimed in one statement by an owner
// with a lease, like every queue, SPEC §10) and the stored files they point at, outbound uploads too.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { preparedClaim, type QueueWhere, releaseLeases, settleHeld } from './locking.js';
import type { MediaState, MediaTable } from './media-tables.js';

export type MediaRow = MediaTable;

const pending: QueueWhere<'media'> = (eb) => eb('state', '=', 'pending');

const claimMedia = preparedClaim({
  table: 'media',
  due: (eb, now) => eb.and([pending(eb), eb('next_attempt_at', '<=', now)]),
  order: ['next_attempt_at', 'id'],
  set: (eb, now) => ({ attempts: eb('attempts', '+', 1), updated_at: now }),
  guard: pending,
});

export interface MediaFailure {
  error: string;
  reason: string;
}

export const mediaRepo = Object.freeze({
  /** Inserts unless a row with this media id exists; true when this call stored it. */
  async insertIfNew(db: Db, row: MediaRow): Promise<boolean> {
    const res = await db
      .insertInto('media')
      .values(row)
      .onConflict((oc) => oc.column('media_id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async getByMediaId(db: Db, mediaId: string): Promise<MediaRow | undefined> {
    return db.selectFrom('media').selectAll().where('media_id', '=', mediaId).executeTakeFirst();
  },

  async listForMessages(db: Db, wamids: string[]): Promise<MediaRow[]> {
    if (wamids.length === 0) return [];
    return db.selectFrom('media').selectAll().where('message_wamid', 'in', wamids).execute();
  },

  /**
   * Due pending downloads not held by a live lease, oldest due first, taken by `owner` until
   * `leaseUntil` in one statement (an expired lease of any owner is taken over).
   */
  async claimDue(db: Db, owner: string, now: number, leaseUntil: number, limit: number): Promise<MediaRow[]> {
    return claimMedia(db, owner, now, leaseUntil, limit);
  },

  /** On start: this owner's leases from a previous run (killed mid-download) are given back at once. */
  async releaseOwnLeases(db: Db, owner: string): Promise<number> {
    return releaseLeases(db, { table: 'media', owner, guard: pending });
  },

  /** The download is on disk: stored. False when the lease was lost meanwhile (nothing changed). */
  async markStored(
    db: Db,
    id: string,
    owner: string,
    file: { content_sha256: string; size_bytes: number; mime_type: string | null },
    now: number,
  ): Promise<boolean> {
    return settleHeld(db, {
      table: 'media',
      id,
      owner,
      guard: pending,
      set: () => ({ ...file, state: 'stored', error: null, reason: null, stored_at: now, updated_at: now }),
    });
  },

  async markFailed(db: Db, id: string, owner: string, failure: MediaFailure, now: number): Promise<boolean> {
    return settleHeld(db, {
      table: 'media',
      id,
      owner,
      guard: pending,
      set: () => ({ state: 'failed', ...failure, updated_at: now }),
    });
  },

  /** Stays pending, due again at `at`, with the problem of this attempt on record. */
  async retryLater(
    db: Db,
    id: string,
    owner: string,
    at: number,
    failure: MediaFailure,
    now: number,
  ): Promise<void> {
    await settleHeld(db, {
      table: 'media',
      id,
      owner,
      guard: pending,
      set: () => ({ ...failure, next_attempt_at: at, updated_at: now }),
    });
  },

  /** Bytes on disk: each stored content counted once, however many rows share it. */
  async storedBytes(db: Db): Promise<number> {
    const row = await sql<{ n: number | null }>`
      select sum(size_bytes) as n from (
        select content_sha256, max(size_bytes) as size_bytes from media
        where state = 'stored' group by content_sha256
      ) as contents`.execute(db);
    return Number(row.rows[0]?.n ?? 0);
  },

  async oldestStored(db: Db, limit: number): Promise<MediaRow[]> {
    return db
      .selectFrom('media')
      .selectAll()
      .where('state', '=', 'stored')
      .orderBy('stored_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  async storedBefore(db: Db, before: number, limit: number): Promise<MediaRow[]> {
    return db
      .selectFrom('media')
      .selectAll()
      .where('state', '=', 'stored')
      .where('stored_at', '<', before)
      .orderBy('stored_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  async expire(db: Db, ids: string[], failure: MediaFailure, now: number): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('media')
      .set({ state: 'expired' as MediaState, ...failure, updated_at: now })
      .where('id', 'in', ids)
      .where('state', '=', 'stored')
      .execute();
  },

  /** Whether any stored row still points at this content (then its file stays). */
  async contentInUse(db: Db, contentSha256: string): Promise<boolean> {
    const row = await db
      .selectFrom('media')
      .select('id')
      .where('content_sha256', '=', contentSha256)
      .where('state', '=', 'stored')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  },

  async countByState(db: Db): Promise<Record<MediaState, number>> {
    const rows = await db
      .selectFrom('media')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const out: Record<MediaState, number> = { pending: 0, stored: 0, failed: 0, expired: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  },
});
