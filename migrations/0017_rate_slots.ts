// Send rate caps shared by every instance on one database (SPEC §10): one row per capped key (a
// business phone number, a campaign) holding the earliest time, in microseconds, at which the next
// send may start. Integer microseconds: the spacing of 80/s is 12.8125 ms, and an integer column reads
// back the same on SQLite and PostgreSQL.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_slots')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('next_at_us', 'bigint', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_slots').execute();
}
