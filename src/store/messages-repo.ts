// Messages in both directions, one row per wamid (the unique key that makes inbound effects happen
// once however often Meta delivers a message).
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Db } from './db.js';
import { preparedByColumns, preparedQuery } from './prepared-query.js';
import type { Database, MessagesTable } from './tables.js';

export type MessageRow = MessagesTable;
/** What a writer gives: the revision columns (source, edits, revoke) default to null. */
export type NewMessage = Omit<MessageRow, 'source' | 'edit_history' | 'edited_at' | 'deleted_at'> &
  Partial<Pick<MessageRow, 'source' | 'edit_history' | 'edited_at' | 'deleted_at'>>;

/**
 * Edits and revokes that point at `wamid`: what revisionsOf reads, and what the inbound read asks
 * after (inbound-hints.ts), so the two cannot drift apart.
 */
export const revisionsOfWhere =
  (wamid: string) =>
  (eb: ExpressionBuilder<Database, 'messages'>): Expression<SqlBool> =>
    eb.and([eb('messages.context_wamid', '=', wamid), eb('messages.type', 'in', ['edit', 'revoke'])]);

/**
 * Business-app echoes to a contact on a number that found no conversation, sent at or after `at`:
 * what unattachedEchoesSince reads, and what the inbound read asks after (inbound-hints.ts).
 */
export const unattachedEchoesWhere =
  (contactId: string, phoneNumberId: string, at: number) =>
  (eb: ExpressionBuilder<Database, 'messages'>): Expression<SqlBool> =>
    eb.and([
      eb('messages.contact_id', '=', contactId),
      eb('messages.conversation_id', 'is', null),
      eb('messages.phone_number_id', '=', phoneNumberId),
      eb('messages.source', '=', 'business_app'),
      eb('messages.timestamp', '>=', at),
    ]);

// These run for every inbound message (prepared-query.ts); the revisions and echoes reads only when
// the inbound read found some (inbox/inbound-message.ts).
const messageIdByWamid = preparedQuery(1, (db, wamid: string) =>
  db.selectFrom('messages').select('id').where('wamid', '=', wamid),
);
const revisionsOfWamid = preparedQuery(1, (db, wamid: string) =>
  db.selectFrom('messages').selectAll().where(revisionsOfWhere(wamid)).orderBy('timestamp').orderBy('id'),
);

const unattachedEchoes = preparedQuery(3, (db, contactId: string, phoneNumberId: string, at: number) =>
  db
    .selectFrom('messages')
    .selectAll()
    .where(unattachedEchoesWhere(contactId, phoneNumberId, at))
    .orderBy('timestamp')
    .orderBy('id'),
);
const insertMessage = preparedByColumns((db, row: NewMessage) =>
  db
    .insertInto('messages')
    .values(row)
    .onConflict((oc) => oc.column('wamid').doNothing()),
);
const setConversationOf = preparedQuery(2, (db, wamid: string, conversationId: string) =>
  db.updateTable('messages').set({ conversation_id: conversationId }).where('wamid', '=', wamid),
);

export const messagesRepo = Object.freeze({
  async findByWamid(db: Db, wamid: string): Promise<MessageRow | undefined> {
    return db.selectFrom('messages').selectAll().where('wamid', '=', wamid).executeTakeFirst();
  },

  /** True when a message with this wamid is stored (reads the index only, not the row). */
  async hasWamid(db: Db, wamid: string): Promise<boolean> {
    return (await messageIdByWamid(db, wamid)).rows.length > 0;
  },

  /** Inserts unless the wamid exists. Returns true when this call stored it. */
  async insertIfNew(db: Db, row: NewMessage): Promise<boolean> {
    const res = await insertMessage(db, row);
    return Number(res.numAffectedRows ?? 0) > 0;
  },

  /** The conversation an inbound message went to (known only after its insert decided it is new). */
  async setConversation(db: Db, wamid: string, conversationId: string): Promise<void> {
    await setConversationOf(db, wamid, conversationId);
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

  /** The conversation's latest customer message (the one a read receipt marks, SPEC §12). */
  async lastInbound(db: Db, conversationId: string): Promise<MessageRow | undefined> {
    return db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('direction', '=', 'inbound')
      .orderBy('timestamp', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  },

  /** Edits and revokes that point at `wamid`, in time order. */
  async revisionsOf(db: Db, wamid: string): Promise<MessageRow[]> {
    return (await revisionsOfWamid(db, wamid)).rows;
  },

  async setRevision(
    db: Db,
    wamid: string,
    patch: Pick<MessageRow, 'text' | 'edit_history' | 'edited_at' | 'deleted_at'>,
  ): Promise<void> {
    await db.updateTable('messages').set(patch).where('wamid', '=', wamid).execute();
  },

  /** Reactions that point at any of `wamids` (in time order). */
  async reactionsTo(db: Db, wamids: string[]): Promise<MessageRow[]> {
    const out: MessageRow[] = [];
    // Bounded IN lists: SQLite caps bound parameters per statement.
    for (let i = 0; i < wamids.length; i += 500) {
      const chunk = wamids.slice(i, i + 500);
      out.push(
        ...(await db
          .selectFrom('messages')
          .selectAll()
          .where('type', '=', 'reaction')
          .where('context_wamid', 'in', chunk)
          .orderBy('timestamp')
          .orderBy('id')
          .execute()),
      );
    }
    return out;
  },

  /** The latest `limit` messages of a contact that belong to no conversation, in timestamp order. */
  async listWithoutConversation(db: Db, contactId: string, limit: number): Promise<MessageRow[]> {
    const rows = await db
      .selectFrom('messages')
      .selectAll()
      .where('contact_id', '=', contactId)
      .where('conversation_id', 'is', null)
      .orderBy('timestamp', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  },

  /** Echoes of Business-app replies to a contact that found no conversation, sent at or after `at`. */
  async unattachedEchoesSince(
    db: Db,
    contactId: string,
    phoneNumberId: string,
    at: number,
  ): Promise<MessageRow[]> {
    return (await unattachedEchoes(db, contactId, phoneNumberId, at)).rows;
  },

  async attachToConversation(db: Db, ids: string[], conversationId: string): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('messages')
      .set({ conversation_id: conversationId })
      .where('id', 'in', ids)
      .execute();
  },
});
