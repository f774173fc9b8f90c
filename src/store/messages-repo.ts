// Messages in both directions, one row per wamid (the unique key that makes inbound effects happen
// once however often Meta delivers a message).
import type { Db } from './db.js';
import type { MessagesTable } from './tables.js';

export type MessageRow = MessagesTable;

export const messagesRepo = Object.freeze({
  async findByWamid(db: Db, wamid: string): Promise<MessageRow | undefined> {
    return db.selectFrom('messages').selectAll().where('wamid', '=', wamid).executeTakeFirst();
  },

  /** Inserts unless the wamid exists. Returns true when this call stored it. */
  async insertIfNew(db: Db, row: MessageRow): Promise<boolean> {
    const res = await db
      .insertInto('messages')
      .values(row)
      .onConflict((oc) => oc.column('wamid').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async setStatus(
    db: Db,
    wamid: string,
    patch: Pick<MessageRow, 'status'> & Partial<Pick<MessageRow, 'error_code' | 'error_title'>>,
  ): Promise<void> {
    await db.updateTable('messages').set(patch).where('wamid', '=', wamid).execute();
  },

  /** The latest `limit` messages of a conversation, returned in timestamp order. */
  async listForConversation(db: Db, conversationId: string, limit: number): Promise<MessageRow[]> {
    const rows = await db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('timestamp', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  },

  /** The conversation's first customer message (the one its class came from). */
  async firstInbound(db: Db, conversationId: string): Promise<MessageRow | undefined> {
    return db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('direction', '=', 'inbound')
      .orderBy('timestamp')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  },

  async countForConversation(db: Db, conversationId: string): Promise<number> {
    const row = await db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('conversation_id', '=', conversationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
});
