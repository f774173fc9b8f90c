// Conversation engine and outbound (SPEC §4, §5, §6): the transition log, hybrid drafts, responder
// jobs (the network call happens outside any transaction), the outbox every outbound message passes
// through, and follow-up jobs with a unique key per silence so one silence never yields two of them.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('conversation_transitions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('conversation_transitions_conversation')
    .on('conversation_transitions')
    .columns(['conversation_id', 'at', 'id'])
    .execute();

  await db.schema
    .createTable('drafts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sqlIn('state', ['pending', 'sent', 'discarded'])))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('drafts_conversation')
    .on('drafts')
    .columns(['conversation_id', 'id'])
    .execute();

  await db.schema
    .createTable('responder_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
    .addColumn('mode', 'text', (c) => c.notNull().check(sqlIn('mode', ['reply', 'draft'])))
    .addColumn('state', 'text', (c) => c.notNull().check(sqlIn('state', ['pending', 'done'])))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('outcome', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('responder_jobs_state').on('responder_jobs').columns(['state', 'id']).execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.references('conversations.id'))
    .addColumn('contact_id', 'text', (c) => c.references('contacts.id'))
    .addColumn('phone_number_id', 'text', (c) => c.notNull())
    .addColumn('to', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sqlIn('kind', ['reply', 'follow_up', 'campaign', 'manual'])),
    )
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sqlIn('state', ['queued', 'sending', 'sent', 'failed', 'dead', 'cancelled'])),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('wamid', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('follow_up_id', 'text')
    .addColumn('campaign_recipient_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  // The sender walks due queued rows by priority, then due time.
  await db.schema
    .createIndex('outbox_due')
    .on('outbox')
    .columns(['state', 'priority', 'next_attempt_at', 'id'])
    .execute();
  await db.schema.createIndex('outbox_conversation').on('outbox').columns(['conversation_id']).execute();
  await db.schema.createIndex('outbox_contact').on('outbox').columns(['contact_id', 'state']).execute();

  await db.schema
    .createTable('follow_ups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id'))
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('silence_from', 'bigint', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sqlIn('state', ['scheduled', 'claimed', 'sent', 'skipped', 'cancelled', 'failed'])),
    )
    .addColumn('lease_until', 'bigint')
    .addColumn('outbox_id', 'text')
    .addColumn('sent_wamid', 'text')
    .addColumn('skip_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // One silence never yields two follow-ups of the same rule (SPEC §6, §9).
  await db.schema
    .createIndex('follow_ups_once_per_silence')
    .on('follow_ups')
    .columns(['conversation_id', 'rule_id', 'silence_from'])
    .unique()
    .execute();
  // The tick claims in due order; its cost follows the due rows, not the table.
  await db.schema.createIndex('follow_ups_due').on('follow_ups').columns(['state', 'due_at', 'id']).execute();
  await db.schema
    .createIndex('follow_ups_conversation')
    .on('follow_ups')
    .columns(['conversation_id', 'state'])
    .execute();

  // Housekeeping: SLA checks walk open conversations by the customer's last message.
  await db.schema
    .createIndex('conversations_state_customer')
    .on('conversations')
    .columns(['queue_state', 'last_customer_message_at'])
    .execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
