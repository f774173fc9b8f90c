// Every insert into the inbox, the hottest write of the daemon, also wrote (received_at), an index no
// query needs since 0020: the retention purge, `purgeBefore` and recovery's `reprocessInboxSince` all
// filter on state too, and (state, received_at) answers each of them (test/store/inbox-purge-plan.test.ts
// asserts the plans). One index page fewer per ingress commit in the WAL, and a smaller file.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('inbox_received_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('inbox_received_at').on('inbox').column('received_at').execute();
}
