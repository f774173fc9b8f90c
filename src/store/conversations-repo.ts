// Conversations: one customer on one business number; at most one not closed at a time (partial
// unique index). Reads join the contact so the API can show who it is.
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './db.js';
import { forUpdate } from './locking.js';
import { preparedByColumns, preparedQuery } from './prepared-query.js';
import type { ConversationsTable } from './tables.js';

export type ConversationRow = Selectable<ConversationsTable>;
export type NewConversation = Insertable<ConversationsTable>;
export type ConversationPatch = Updateable<ConversationsTable>;

/** A conversation with what the API shows about its customer and agent. */
export interface ConversationView extends ConversationRow {
  wa_id: string | null;
  user_id: string | null;
  username: string | null;
  profile_name: string | null;
  agent_uuid: string | null;
  /** Set when the conversation is a WhatsApp group's (its contact stands for the group). */
  group_id: string | null;
}

export interface ConversationFilters {
  queue_state?: string;
  assigned_route?: string;
  agent_uuid?: string;
  /** Any number the customer has had (old numbers included). */
  wa_id?: string;
  conversation_class?: string;
  /** Only conversations waiting for a human: escalated, or holding a pending draft (the dashboard). */
  needs_human?: boolean;
  /** One contact's conversations (the contacts API). */
  contact_id?: string;
}

/** Keyset position: conversations strictly after this one in (last_message_at desc, id desc) order. */
export interface ActivityKey {
  last_message_at: number;
  id: string;
}

// The owning agent: the one assigned to the conversation, else the one that owns its channel (for
// conversations that began before an agent was attached to the number).
function viewQuery(db: Db) {
  return db
    .selectFrom('conversations')
    .innerJoin('contacts', 'contacts.id', 'conversations.contact_id')
    .leftJoin('agents as assigned', 'assigned.id', 'conversations.agent_id')
    .leftJoin('agents as owner', 'owner.phone_number_id', 'conversations.phone_number_id')
    .selectAll('conversations')
    .select((eb) => [
      'contacts.wa_id',
      'contacts.user_id',
      'contacts.username',
      'contacts.profile_name',
      'contacts.group_id',
      eb.fn.coalesce('assigned.uuid', 'owner.uuid').as('agent_uuid'),
    ]);
}

// Runs for every inbound message (prepared-query.ts).
const openConversation = preparedQuery(2, (db, phoneNumberId: string, contactId: string) =>
  db
    .selectFrom('conversations')
    .selectAll()
    .where('phone_number_id', '=', phoneNumberId)
    .where('contact_id', '=', contactId)
    .where('closed_at', 'is', null),
);
// The same, locked until commit on PostgreSQL (the inbound message's engine write depends on it).
const openConversationForUpdate = preparedQuery(2, (db, phoneNumberId: string, contactId: string) =>
  forUpdate(
    db,
    db
      .selectFrom('conversations')
      .selectAll()
      .where('phone_number_id', '=', phoneNumberId)
      .where('contact_id', '=', contactId)
      .where('closed_at', 'is', null),
  ),
);

// Every inbound message changes its conversation; the changed columns vary (engine.ts writes only those).
const updateConversation = preparedByColumns((db, patch: ConversationPatch, id: string) =>
  db.updateTable('conversations').set(patch).where('id', '=', id),
);

function latestClosed(db: Db, phoneNumberId: string, contactId: string) {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('contact_id', '=', contactId)
    .where('phone_number_id', '=', phoneNumberId)
    .orderBy('opened_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1);
}

export const conversationsRepo = Object.freeze({
  async get(db: Db, id: string): Promise<ConversationRow | undefined> {
    return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /**
   * The row as it is now, for a write that depends on it in the same transaction (SPEC §10: locked
   * until commit on PostgreSQL; on SQLite the transaction's write lock serialises every writer).
   */
  async getForUpdate(db: Db, id: string): Promise<ConversationRow | undefined> {
    return forUpdate(db, db.selectFrom('conversations').selectAll().where('id', '=', id)).executeTakeFirst();
  },

  /**
   * The customer's conversation on this number that is not closed, else the most recently opened
   * one (closed), else undefined. It runs for every inbound message.
   */
  async findCurrent(db: Db, phoneNumberId: string, contactId: string): Promise<ConversationRow | undefined> {
    // The open one (at most one: conversations_one_active) by its partial index, without a sort;
    // else the latest closed one.
    const open = (await openConversation(db, phoneNumberId, contactId)).rows[0];
    if (open) return open;
    return latestClosed(db, phoneNumberId, contactId).executeTakeFirst();
  },

  /**
   * findCurrent for a write that depends on the row in the same transaction: locked until commit on
   * PostgreSQL, as getForUpdate (on SQLite the transaction's write lock serialises every writer). The
   * conversation engine takes such a row as it is, without reading it again.
   */
  async findCurrentForUpdate(
    db: Db,
    phoneNumberId: string,
    contactId: string,
  ): Promise<ConversationRow | undefined> {
    const open = (await openConversationForUpdate(db, phoneNumberId, contactId)).rows[0];
    if (open) return open;
    return forUpdate(db, latestClosed(db, phoneNumberId, contactId)).executeTakeFirst();
  },

  async insert(db: Db, row: NewConversation): Promise<void> {
    await db.insertInto('conversations').values(row).execute();
  },

  async update(db: Db, id: string, patch: ConversationPatch): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await updateConversation(db, patch, id);
  },

  async getView(db: Db, id: string): Promise<ConversationView | undefined> {
    return viewQuery(db).where('conversations.id', '=', id).executeTakeFirst();
  },

  /** Newest activity first; `after` continues a previous page. */
  async listViews(
    db: Db,
    filters: ConversationFilters,
    limit: number,
    after?: ActivityKey,
  ): Promise<ConversationView[]> {
    let q = viewQuery(db);
    if (filters.agent_uuid !== undefined) {
      const uuid = filters.agent_uuid;
      q = q.where((eb) =>
        eb.or([
          eb('assigned.uuid', '=', uuid),
          eb.and([eb('conversations.agent_id', 'is', null), eb('owner.uuid', '=', uuid)]),
        ]),
      );
    }
    if (filters.queue_state) q = q.where('conversations.queue_state', '=', filters.queue_state as never);
    if (filters.assigned_route) {
      q = q.where('conversations.assigned_route', '=', filters.assigned_route as never);
    }
    if (filters.conversation_class) {
      q = q.where('conversations.conversation_class', '=', filters.conversation_class);
    }
    if (filters.needs_human) {
      q = q.where((eb) =>
        eb.or([
          eb('conversations.queue_state', '=', 'escalated'),
          eb.exists(
            eb
              .selectFrom('drafts')
              .select('drafts.id')
              .whereRef('drafts.conversation_id', '=', 'conversations.id')
              .where('drafts.state', '=', 'pending'),
          ),
        ]),
      );
    }
    if (filters.contact_id) q = q.where('conversations.contact_id', '=', filters.contact_id);
    if (filters.wa_id) {
      const waId = filters.wa_id;
      q = q.where('conversations.contact_id', 'in', (eb) =>
        eb
          .selectFrom('contact_identities')
          .select('contact_identities.contact_id')
          .where('contact_identities.kind', '=', 'wa_id')
          .where('contact_identities.value', '=', waId),
      );
    }
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('conversations.last_message_at', '<', after.last_message_at),
          eb.and([
            eb('conversations.last_message_at', '=', after.last_message_at),
            eb('conversations.id', '<', after.id),
          ]),
        ]),
      );
    }
    return q
      .orderBy('conversations.last_message_at', 'desc')
      .orderBy('conversations.id', 'desc')
      .limit(limit)
      .execute();
  },
});
