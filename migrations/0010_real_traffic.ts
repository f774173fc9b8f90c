// Real traffic (SPEC §3a, issue 13). Messages gain their source (`business_app` for an echo of a reply
// sent from the WhatsApp Business app), their edit history and revoke time, and an index on the wamid
// they point at (reactions, edits and revokes are looked up by their target). A group is kept as a
// contact of its own (`group_id`), so its conversation never collides with a participant's one-to-one
// conversation. Identity changes are kept per contact. Other webhook fields get a content hash so a
// redelivery (a new inbox row with the same content) records nothing new. The outbox is searchable by
// wamid, for a `failed` status webhook that must find the send it belongs to.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('source', 'text').execute();
  await db.schema.alterTable('messages').addColumn('edit_history', 'text').execute();
  await db.schema.alterTable('messages').addColumn('edited_at', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('deleted_at', 'bigint').execute();
  await db.schema.createIndex('messages_context').on('messages').columns(['context_wamid']).execute();
  await db.schema
    .createIndex('messages_contact_time')
    .on('messages')
    .columns(['contact_id', 'timestamp', 'id'])
    .execute();

  await db.schema.alterTable('contacts').addColumn('group_id', 'text').execute();
  await db.schema.createIndex('contacts_group').on('contacts').columns(['group_id']).unique().execute();

  await db.schema
    .createTable('contact_identity_changes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('wa_id', 'user_id')`))
    .addColumn('previous', 'text')
    .addColumn('current', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('contact_identity_changes_contact')
    .on('contact_identity_changes')
    .columns(['contact_id', 'at'])
    .execute();

  await db.schema.alterTable('webhook_events').addColumn('content_hash', 'text').execute();
  await db.schema
    .createIndex('webhook_events_content')
    .on('webhook_events')
    .columns(['field', 'content_hash'])
    .unique()
    .execute();

  await db.schema.createIndex('outbox_wamid').on('outbox').columns(['wamid']).execute();
}
