// Events out (SPEC §11): the domain event log (a transactional outbox: each event is written in the
// transaction of its change, numbered by `seq`), webhook subscriptions, one delivery row per event and
// subscription (the queue the delivery worker claims with an owner and a lease), and the attempts log.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('domain_events')
    // SQLite: an alias of the rowid, so commit order is sequence order (one writer at a time).
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    // 1: a fact only the in-process projections read (insight rollups); never delivered or streamed.
    .addColumn('internal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('agent_uuid', 'text')
    .addColumn('conversation_id', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  // Retention prunes by time; replay `since` starts from a time.
  await db.schema
    .createIndex('domain_events_occurred')
    .on('domain_events')
    .columns(['occurred_at'])
    .execute();

  await db.schema
    .createTable('event_subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    // JSON array of event types, or ["*"].
    .addColumn('types', 'text', (c) => c.notNull())
    .addColumn('agent_uuid', 'text')
    .addColumn('description', 'text')
    .addColumn('secret', 'text', (c) => c.notNull())
    // After a rotation the old secret signs too until previous_secret_until.
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_until', 'bigint')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('disabled_reason', 'text')
    // The last event seq fanned out into deliveries for this subscription.
    .addColumn('cursor_seq', 'integer', (c) => c.notNull().defaultTo(0))
    // Set by the first failed attempt after a success; cleared by a success.
    .addColumn('failing_since', 'bigint')
    .addColumn('last_success_at', 'bigint')
    .addColumn('last_failure_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('event_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('event_seq', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    // The event's conversation ('' when it has none): deliveries of one key go out in seq order.
    .addColumn('order_key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('event_deliveries_sub_event')
    .on('event_deliveries')
    .columns(['subscription_id', 'event_seq'])
    .unique()
    .execute();
  // The claim: due pending rows, and "is an earlier one of the same key still pending".
  await db.schema
    .createIndex('event_deliveries_order')
    .on('event_deliveries')
    .columns(['subscription_id', 'order_key', 'state', 'event_seq'])
    .execute();
  await db.schema
    .createIndex('event_deliveries_due')
    .on('event_deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute();

  await db.schema
    .createTable('event_delivery_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('event_delivery_attempts_sub')
    .on('event_delivery_attempts')
    .columns(['subscription_id', 'at'])
    .execute();
}
