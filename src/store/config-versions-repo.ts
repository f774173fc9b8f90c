// The history of management config overrides: one row per stored version, never updated; pruned
// past its retention (config/config-store.ts) so it cannot grow without bound.
import type { Db } from './db.js';
import type { ConfigVersionsTable } from './tables.js';

export type ConfigVersionRow = ConfigVersionsTable;

export const configVersionsRepo = Object.freeze({
  async latest(db: Db): Promise<ConfigVersionRow | undefined> {
    return db
      .selectFrom('config_versions')
      .selectAll()
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  },

  async latestVersion(db: Db): Promise<number> {
    const row = await db
      .selectFrom('config_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    return Number(row?.v ?? 0);
  },

  async insert(db: Db, row: ConfigVersionRow): Promise<void> {
    await db.insertInto('config_versions').values(row).execute();
  },

  /** Deletes versions below `belowVersion` that are also older than `before`; the newest is never below. */
  async pruneHistory(db: Db, opts: { belowVersion: number; before: number }): Promise<void> {
    await db
      .deleteFrom('config_versions')
      .where('version', '<', opts.belowVersion)
      .where('created_at', '<', opts.before)
      .execute();
  },

  /** Newest first, before `beforeVersion` (exclusive). */
  async page(db: Db, opts: { limit: number; beforeVersion?: number }): Promise<ConfigVersionRow[]> {
    let q = db.selectFrom('config_versions').selectAll();
    if (opts.beforeVersion !== undefined) q = q.where('version', '<', opts.beforeVersion);
    return q.orderBy('version', 'desc').limit(opts.limit).execute();
  },
});
