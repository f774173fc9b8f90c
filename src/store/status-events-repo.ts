// Delivery status events (sent, delivered, read, played, failed) as Meta reported them. An event
// whose message is not known yet keeps applied_at null until the message appears.
import type { Db } from './db.js';
import type { StatusEventsTable } from './tables.js';

export type StatusEventRow = StatusEventsTable;

export const statusEventsRepo = Object.freeze({
  /** Stores the event unless the same (wamid, status, timestamp) exists. Returns true if new. */
  async insertIfNew(db: Db, row: StatusEventRow): Promise<boolean> {
    const res = await db
      .insertInto('status_events')
      .values(row)
      .onConflict((oc) => oc.columns(['wamid', 'status', 'timestamp']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async listUnapplied(db: Db, wamid: string): Promise<StatusEventRow[]> {
    return db
      .selectFrom('status_events')
      .selectAll()
      .where('wamid', '=', wamid)
      .where('applied_at', 'is', null)
      .orderBy('timestamp')
      .orderBy('id')
      .execute();
  },

  async markApplied(db: Db, ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await db.updateTable('status_events').set({ applied_at: now }).where('id', 'in', ids).execute();
  },
});
