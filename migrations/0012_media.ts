// Media (SPEC §12): one row per media object, inbound (a download job: pending → stored | failed |
// expired) or outbound (uploaded through the API). The row is also the queue: a download is claimed
// by an owner with a lease, retried with backoff and taken over when its lease runs out.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('media')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Meta's media id (or a sandbox one); what the API addresses media by.
    .addColumn('media_id', 'text', (c) => c.notNull().unique())
    .addColumn('direction', 'text', (c) => c.notNull().check(sqlIn('direction', ['inbound', 'outbound'])))
    .addColumn('message_wamid', 'text')
    .addColumn('conversation_id', 'text')
    .addColumn('phone_number_id', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text')
    .addColumn('filename', 'text')
    // As the webhook gave it (base64) or the lookup (hex): both are accepted when verifying.
    .addColumn('declared_sha256', 'text')
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sqlIn('state', ['pending', 'stored', 'failed', 'expired'])),
    )
    .addColumn('error', 'text')
    .addColumn('reason', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    // Hex SHA-256 of the stored bytes: the file's name in the content-addressed store.
    .addColumn('content_sha256', 'text')
    .addColumn('size_bytes', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('stored_at', 'bigint')
    .execute();
  // The downloader claims due pending rows in due order.
  await db.schema.createIndex('media_due').on('media').columns(['state', 'next_attempt_at', 'id']).execute();
  // Quota eviction and retention walk stored rows oldest first; a file is removed with its last row.
  await db.schema.createIndex('media_stored').on('media').columns(['state', 'stored_at', 'id']).execute();
  await db.schema.createIndex('media_content').on('media').columns(['content_sha256', 'state']).execute();
  await db.schema.createIndex('media_message').on('media').columns(['message_wamid']).execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
