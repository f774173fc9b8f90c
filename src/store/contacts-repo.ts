// Contacts and their identities. A customer is known by phone number (wa_id) and/or business-scoped
// user id (BSUID); every value ever seen stays in contact_identities pointing at one contact, so an
// old number or old BSUID still finds the same customer and history.
import type { Db } from './db.js';
import type { ContactIdentitiesTable, ContactsTable } from './tables.js';

export type ContactRow = ContactsTable;
export type IdentityKind = ContactIdentitiesTable['kind'];

export const contactsRepo = Object.freeze({
  async get(db: Db, id: string): Promise<ContactRow | undefined> {
    return db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findByIdentity(db: Db, kind: IdentityKind, value: string): Promise<ContactRow | undefined> {
    return db
      .selectFrom('contact_identities')
      .innerJoin('contacts', 'contacts.id', 'contact_identities.contact_id')
      .selectAll('contacts')
      .where('contact_identities.kind', '=', kind)
      .where('contact_identities.value', '=', value)
      .executeTakeFirst();
  },

  async insert(db: Db, row: ContactRow): Promise<void> {
    await db.insertInto('contacts').values(row).execute();
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
});
