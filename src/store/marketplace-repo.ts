// The marketplace catalog (SPEC §8). The `native-whatsapp` record is shipped by a migration; the
// daemon only stamps its times and version and keeps install_count current.
import type { Db } from './db.js';
import type { MarketplaceExtensionsTable } from './tables.js';

export type MarketplaceRow = MarketplaceExtensionsTable;

export const marketplaceRepo = Object.freeze({
  async list(db: Db): Promise<MarketplaceRow[]> {
    return db.selectFrom('marketplace_extensions').selectAll().orderBy('id').execute();
  },

  async findById(db: Db, id: number): Promise<MarketplaceRow | undefined> {
    return db.selectFrom('marketplace_extensions').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** Fills times a migration could not know, and records an upgrade of the running version. */
  async stamp(db: Db, slug: string, version: string, now: number): Promise<void> {
    await db
      .updateTable('marketplace_extensions')
      .set({ created_at: now })
      .where('slug', '=', slug)
      .where('created_at', 'is', null)
      .execute();
    await db
      .updateTable('marketplace_extensions')
      .set({ version, updated_at: now })
      .where('slug', '=', slug)
      .where((eb) => eb.or([eb('version', '!=', version), eb('updated_at', 'is', null)]))
      .execute();
  },

  async incrementInstallCount(db: Db, id: number, now: number): Promise<void> {
    await db
      .updateTable('marketplace_extensions')
      .set((eb) => ({ install_count: eb('install_count', '+', 1), updated_at: now }))
      .where('id', '=', id)
      .execute();
  },
});
