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

  async get(db: Db, name: string, language: string): Promise<TemplateRow | undefined> {
    return db
      .selectFrom('templates')
      .selectAll()
      .where('name', '=', name)
      .where('language', '=', language)
      .executeTakeFirst();
  },
});
