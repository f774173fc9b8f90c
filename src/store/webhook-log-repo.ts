// What a delivery carried besides messages and statuses (webhook_events: template, quality and
// account updates, user preferences, value-level errors) and what could not be processed in it
// (webhook_errors: one row per failed change or skipped item, replaced when the row is reprocessed).
import type { Db } from './db.js';
import type { WebhookErrorsTable, WebhookEventsTable } from './tables.js';

export const webhookLogRepo = Object.freeze({
  /**
   * Stores the event once per (delivery, entry, change) and once per content (field + content hash),
   * so neither reprocessing nor a redelivery by Meta records it again. True when this call stored it.
   */
  async recordEvent(db: Db, row: WebhookEventsTable): Promise<boolean> {
    const res = await db
      .insertInto('webhook_events')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async recordErrors(db: Db, rows: WebhookErrorsTable[]): Promise<void> {
    if (rows.length === 0) return;
    await db.insertInto('webhook_errors').values(rows).execute();
  },

  async clearErrors(db: Db, inboxId: string): Promise<void> {
    await db.deleteFrom('webhook_errors').where('inbox_id', '=', inboxId).execute();
  },

  async listErrors(db: Db, inboxId: string): Promise<WebhookErrorsTable[]> {
    return db
      .selectFrom('webhook_errors')
      .selectAll()
      .where('inbox_id', '=', inboxId)
      .orderBy('id')
      .execute();
  },
});
