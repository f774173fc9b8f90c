// Templates keep the components the template sync reads (header, body, buttons as Meta lists them, JSON),
// so that a person replying from the dashboard sees the text and fills the parameters it needs.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('templates').addColumn('components', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('templates').dropColumn('components').execute();
}
