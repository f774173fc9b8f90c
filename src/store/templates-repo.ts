// The template cache: the latest known status of each (name, language), fed by
// message_template_status_update webhooks; campaigns and follow-ups check it before sending.
import type { Db } from './db.js';
import type { TemplatesTable } from './tables.js';

export type TemplateRow = TemplatesTable;

export const templatesRepo = Object.freeze({
  /** Upserts unless the stored row is newer (deliveries arrive out of order). */
  async upsertIfNewer(db: Db, row: TemplateRow): Promise<void> {
    await db
      .insertInto('templates')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['name', 'language'])
          // An update that omits the category or id keeps what an earlier one said.
          .doUpdateSet((eb) => ({
            status: row.status,
            category: eb.fn.coalesce(eb.ref('excluded.category'), eb.ref('templates.category')),
            template_id: eb.fn.coalesce(eb.ref('excluded.template_id'), eb.ref('templates.template_id')),
            reason: row.reason,
            updated_at: row.updated_at,
          }))
          .where('templates.updated_at', '<=', row.updated_at),
      )
      .execute();
  },

  /**
   * The template's quality score (message_template_quality_update). A template not cached yet gets a
   * row of unknown status, updated_at 0, so that any status update for it still applies.
   */
  async setQuality(
    db: Db,
    q: { name: string; language: string; quality: string; template_id: string | null },
  ): Promise<void> {
    await db
      .insertInto('templates')
      .values({
        name: q.name,
        language: q.language,
        status: 'UNKNOWN',
        category: null,
        template_id: q.template_id,
        reason: null,
        quality: q.quality,
        updated_at: 0,
      })
      .onConflict((oc) => oc.columns(['name', 'language']).doUpdateSet({ quality: q.quality }))
      .execute();
  },

  /** A page of the cache in (name, language) order, after the given key. */
  async page(db: Db, limit: number, after?: { name: string; language: string }): Promise<TemplateRow[]> {
    let q = db.selectFrom('templates').selectAll();
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('name', '>', after.name),
          eb.and([eb('name', '=', after.name), eb('language', '>', after.language)]),
        ]),
      );
    }
    return q.orderBy('name').orderBy('language').limit(limit).execute();
  },

  /**
   * Replaces the cache with a complete sync's list, in the caller's transaction: every listed
   * template is written (status, category, quality, id) and cached templates Meta no longer lists
   * are removed. Returns how many were removed.
   */
  async replaceAll(db: Db, rows: TemplateRow[]): Promise<number> {
    const seen = new Set(rows.map((r) => `${r.name}\u0000${r.language}`));
    for (const row of rows) {
      await db
        .insertInto('templates')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['name', 'language']).doUpdateSet({
            status: row.status,
            category: row.category,
            template_id: row.template_id,
            reason: row.reason,
            quality: row.quality ?? null,
            components: row.components ?? null,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    }
    const cached = await db.selectFrom('templates').select(['name', 'language']).execute();
    let removed = 0;
    for (const c of cached) {
      if (seen.has(`${c.name}\u0000${c.language}`)) continue;
      await db
        .deleteFrom('templates')
        .where('name', '=', c.name)
        .where('language', '=', c.language)
        .execute();
      removed++;
    }
    return removed;
  },

  /** Templates in one status (APPROVED: what may be sent), in (name, language) order, at most `limit`. */
  async listInStatus(db: Db, status: string, limit: number): Promise<TemplateRow[]> {
    return db
      .selectFrom('templates')
      .selectAll()
      .where('status', '=', status)
      .orderBy('name')
      .orderBy('language')
      .limit(limit)
      .execute();
  },

  async get(db: Db, name: string, language: string): Promise<TemplateRow | undefined> {
    return db
      .selectFrom('templates')
      .selectAll()
      .where('name', '=', name)
      .where('language', '=', language)
      .executeTakeFirst();
  },
});
