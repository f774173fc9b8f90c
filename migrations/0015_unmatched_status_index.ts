// Housekeeping purges status events that never matched a message (issue 21): a partial index on the
// unmatched ones by arrival time, so the purge walks only them, oldest first, however many matched
// events the table holds.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('status_events_unmatched')
    .on('status_events')
    .column('created_at')
    .where(sql.ref('applied_at'), 'is', null)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('status_events_unmatched').execute();
}
