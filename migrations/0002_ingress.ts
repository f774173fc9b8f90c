// Webhook ingress (SPEC §3): the inbox of raw deliveries, contacts and their identities (wa_id and
// BSUID, old ones kept so a number change keeps one history), conversations, messages, status events
// (kept even before their message exists), other webhook fields, per-change errors, and the
// template cache fed by message_template_status_update.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('delivery_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sqlIn('state', ['pending', 'processed', 'rejected', 'dead'])),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('processed_at', 'bigint')
    .execute();
  // Claiming walks pending rows in id (= received) order.
  await db.schema.createIndex('inbox_state_id').on('inbox').columns(['state', 'id']).execute();
  await db.schema.createIndex('inbox_received_at').on('inbox').column('received_at').execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('wa_id', 'text', (c) => c.unique())
    .addColumn('user_id', 'text', (c) => c.unique())
    .addColumn('username', 'text')
    .addColumn('profile_name', 'text')
    .addColumn('opted_out_at', 'bigint')
    .addColumn('opted_in_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('contact_identities')
    .addColumn('kind', 'text', (c) => c.notNull().check(sqlIn('kind', ['wa_id', 'user_id'])))
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_identities_pk', ['kind', 'value'])
    .execute();
  await db.schema
    .createIndex('contact_identities_contact')
    .on('contact_identities')
    .column('contact_id')
    .execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('phone_number_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id'))
    .addColumn('agent_id', 'integer')
    .addColumn('queue_state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('open')
        .check(sqlIn('queue_state', ['open', 'pending', 'escalated', 'closed'])),
    )
    .addColumn('assigned_route', 'text', (c) =>
      c
        .notNull()
        .defaultTo('ai')
        .check(sqlIn('assigned_route', ['ai', 'hybrid', 'human'])),
    )
    .addColumn('conversation_class', 'text', (c) => c.notNull().defaultTo('general'))
    .addColumn('priority', 'text', (c) =>
      c
        .notNull()
        .defaultTo('normal')
        .check(sqlIn('priority', ['low', 'normal', 'high'])),
    )
    .addColumn('escalation_reason', 'text')
    .addColumn('closed_reason', 'text')
    .addColumn('campaign_id', 'text')
    .addColumn('intent', 'text')
    .addColumn('sentiment', 'real')
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    .addColumn('last_message_at', 'bigint', (c) => c.notNull())
    .addColumn('last_customer_message_at', 'bigint')
    .addColumn('last_business_message_at', 'bigint')
    .addColumn('window_expires_at', 'bigint')
    .addColumn('unanswered_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('turns_total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('turns_answered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pending_outbound', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // At most one conversation that is not closed per customer and business number.
  await db.schema
    .createIndex('conversations_one_active')
    .on('conversations')
    .columns(['phone_number_id', 'contact_id'])
    .unique()
    .where(sql.ref('closed_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('conversations_contact')
    .on('conversations')
    .columns(['contact_id', 'phone_number_id', 'opened_at'])
    .execute();
  // Listing: newest activity first, optionally by state (keyset on last_message_at, id).
  await db.schema
    .createIndex('conversations_activity')
    .on('conversations')
    .columns(['last_message_at', 'id'])
    .execute();
  await db.schema
    .createIndex('conversations_state_activity')
    .on('conversations')
    .columns(['queue_state', 'last_message_at', 'id'])
    .execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('wamid', 'text', (c) => c.notNull().unique())
    .addColumn('conversation_id', 'text', (c) => c.references('conversations.id'))
    .addColumn('contact_id', 'text', (c) => c.references('contacts.id'))
    .addColumn('phone_number_id', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull().check(sqlIn('direction', ['inbound', 'outbound'])))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('status', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('context_wamid', 'text')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('messages_conversation_time')
    .on('messages')
    .columns(['conversation_id', 'timestamp', 'id'])
    .execute();

  await db.schema
    .createTable('status_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('inbox_id', 'text')
    .addColumn('wamid', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('recipient_id', 'text')
    .addColumn('recipient_user_id', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('biz_opaque_callback_data', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('applied_at', 'bigint')
    .execute();
  // The same status of the same message at the same second is one event, however often Meta sends it.
  await db.schema
    .createIndex('status_events_identity')
    .on('status_events')
    .columns(['wamid', 'status', 'timestamp'])
    .unique()
    .execute();

  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('inbox_id', 'text', (c) => c.notNull())
    .addColumn('entry_index', 'integer', (c) => c.notNull())
    .addColumn('change_index', 'integer', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('event', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_events_change')
    .on('webhook_events')
    .columns(['inbox_id', 'entry_index', 'change_index'])
    .unique()
    .execute();
  await db.schema
    .createIndex('webhook_events_field')
    .on('webhook_events')
    .columns(['field', 'received_at'])
    .execute();

  await db.schema
    .createTable('webhook_errors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('inbox_id', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_errors_inbox').on('webhook_errors').column('inbox_id').execute();

  await db.schema
    .createTable('templates')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('template_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('templates_pk', ['name', 'language'])
    .execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
