// Drafts a human decides on (SPEC §13): approved (the text that went out and its outbox row),
// discarded, or superseded when a human replied otherwise or the customer wrote again. SQLite cannot
// change a CHECK constraint in place, so the table is rebuilt; the one state older code wrote and
// nothing set (`sent`) becomes `approved`.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('drafts_0009')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sqlIn('state', ['pending', 'approved', 'discarded', 'superseded'])),
    )
    // The text that went out (the draft's own, or a human's edit of it); approved drafts only.
    .addColumn('sent_text', 'text')
    .addColumn('outbox_id', 'text')
    // Who decided (token:<id>, or the engine for superseded) and why (superseded: what happened).
    .addColumn('decided_by', 'text')
    .addColumn('decided_reason', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into drafts_0009 (id, conversation_id, text, source, state, created_at, updated_at)
    select id, conversation_id, text, source,
      case state when 'sent' then 'approved' else state end, created_at, updated_at
    from drafts`.execute(db);
  await db.schema.dropTable('drafts').execute();
  await db.schema.alterTable('drafts_0009').renameTo('drafts').execute();
  await db.schema
    .createIndex('drafts_conversation')
    .on('drafts')
    .columns(['conversation_id', 'id'])
    .execute();
  // Superseding looks up a conversation's pending drafts on every customer message.
  await db.schema
    .createIndex('drafts_conversation_state')
    .on('drafts')
    .columns(['conversation_id', 'state'])
    .execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
