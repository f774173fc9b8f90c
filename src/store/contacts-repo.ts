// Contacts and their identities. A customer is known by phone number (wa_id) and/or business-scoped
// user id (BSUID); every value ever seen stays in contact_identities pointing at one contact, so an
// old number or old BSUID still finds the same customer and history.
import type { Db } from './db.js';
import { preparedQuery } from './prepared-query.js';
import type { ContactIdentitiesTable, ContactIdentityChangesTable, ContactsTable } from './tables.js';

export type ContactRow = ContactsTable;
export type IdentityKind = ContactIdentitiesTable['kind'];
export type IdentityChangeRow = ContactIdentityChangesTable;

// Runs for every inbound message (prepared-query.ts).
const contactByIdentity = preparedQuery(2, (db, kind: IdentityKind, value: string) =>
  db
    .selectFrom('contact_identities')
    .innerJoin('contacts', 'contacts.id', 'contact_identities.contact_id')
    .selectAll('contacts')
    .where('contact_identities.kind', '=', kind)
    .where('contact_identities.value', '=', value),
);

export const contactsRepo = Object.freeze({
  async get(db: Db, id: string): Promise<ContactRow | undefined> {
    return db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findByIdentity(db: Db, kind: IdentityKind, value: string): Promise<ContactRow | undefined> {
    return (await contactByIdentity(db, kind, value)).rows[0];
  },

  async insert(db: Db, row: Omit<ContactRow, 'group_id'> & { group_id?: string | null }): Promise<void> {
    await db.insertInto('contacts').values(row).execute();
  },

  /**
   * Inserts a new contact unless one already holds its wa_id or user_id (another instance created
   * the same customer at the same moment and committed first); returns true when inserted.
   */
  async insertIfAbsent(
    db: Db,
    row: Omit<ContactRow, 'group_id'> & { group_id?: string | null },
  ): Promise<boolean> {
    const res = await db
      .insertInto('contacts')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async update(db: Db, id: string, patch: Partial<Omit<ContactRow, 'id'>>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await db.updateTable('contacts').set(patch).where('id', '=', id).execute();
  },

  /** Links an identity to a contact; a value already linked keeps its contact. Returns true if new. */
  async addIdentity(
    db: Db,
    kind: IdentityKind,
    value: string,
    contactId: string,
    now: number,
  ): Promise<boolean> {
    const res = await db
      .insertInto('contact_identities')
      .values({ kind, value, contact_id: contactId, created_at: now })
      .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async identities(db: Db, contactId: string): Promise<ContactIdentitiesTable[]> {
    return db
      .selectFrom('contact_identities')
      .selectAll()
      .where('contact_id', '=', contactId)
      .orderBy('created_at')
      .orderBy('kind')
      .orderBy('value')
      .execute();
  },

  async findByGroup(db: Db, groupId: string): Promise<ContactRow | undefined> {
    return db.selectFrom('contacts').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  },

  async addIdentityChange(db: Db, row: IdentityChangeRow): Promise<void> {
    await db.insertInto('contact_identity_changes').values(row).execute();
  },

  async identityChanges(db: Db, contactId: string, limit = 200): Promise<IdentityChangeRow[]> {
    return db
      .selectFrom('contact_identity_changes')
      .selectAll()
      .where('contact_id', '=', contactId)
      .orderBy('at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /**
   * Moves everything of contact `from` onto `into` (identities, messages, conversations, sends,
   * campaign recipients, identity changes) and deletes `from`: two contacts turned out to be one
   * customer. `from`'s conversations that are still active where `into` has one on the same number
   * are closed first (reason `merged`), since a customer has one active conversation per number.
   */
  async mergeInto(db: Db, from: string, into: string, now: number): Promise<void> {
    const active = await db
      .selectFrom('conversations')
      .select('phone_number_id')
      .where('contact_id', '=', into)
      .where('closed_at', 'is', null)
      .execute();
    const numbers = active.map((r) => r.phone_number_id);
    if (numbers.length > 0) {
      await db
        .updateTable('conversations')
        .set({ queue_state: 'closed', closed_at: now, closed_reason: 'merged', updated_at: now })
        .where('contact_id', '=', from)
        .where('closed_at', 'is', null)
        .where('phone_number_id', 'in', numbers)
        .execute();
    }
    await db.updateTable('conversations').set({ contact_id: into }).where('contact_id', '=', from).execute();
    await db.updateTable('messages').set({ contact_id: into }).where('contact_id', '=', from).execute();
    await db.updateTable('outbox').set({ contact_id: into }).where('contact_id', '=', from).execute();
    await db
      .updateTable('campaign_recipients')
      .set({ contact_id: into })
      .where('contact_id', '=', from)
      .execute();
    await db
      .updateTable('contact_identities')
      .set({ contact_id: into })
      .where('contact_id', '=', from)
      .execute();
    await db
      .updateTable('contact_identity_changes')
      .set({ contact_id: into })
      .where('contact_id', '=', from)
      .execute();
    await db.deleteFrom('contacts').where('id', '=', from).execute();
  },

  /** Contacts newest first (ids are time-sortable), optionally only those who ever had an identity. */
  async list(
    db: Db,
    filter: { kind?: IdentityKind; value?: string },
    limit: number,
    beforeId?: string,
  ): Promise<ContactRow[]> {
    let q = db.selectFrom('contacts').selectAll('contacts').where('contacts.group_id', 'is', null);
    if (filter.kind && filter.value !== undefined) {
      const { kind, value } = filter;
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('contact_identities as i')
            .select('i.value')
            .whereRef('i.contact_id', '=', 'contacts.id')
            .where('i.kind', '=', kind)
            .where('i.value', '=', value),
        ),
      );
    }
    if (beforeId !== undefined) q = q.where('contacts.id', '<', beforeId);
    return q.orderBy('contacts.id', 'desc').limit(limit).execute();
  },
});
