// Campaigns, templates and cost (SPEC §14): why a campaign paused or waits, which campaign it
// retargets, the outcome of its last sends (auto-pause), when each recipient was delivered, read or
// failed (the CSV export), template quality and the sync's own status, the pricing Meta reports per
// message, and the rollups that cost and "per reply earned" are read from (never summed per request).
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('campaigns').addColumn('pause_reason', 'text').execute();
  await db.schema.alterTable('campaigns').addColumn('schedule_reason', 'text').execute();
  await db.schema.alterTable('campaigns').addColumn('retarget_of', 'text').execute();
  // One character per send in send order, for the last 100 sends: '0' accepted, '1' failed
  // permanently (a late failure status turns its send's '0' into '1'); sends_recorded numbers them.
  await db.schema
    .alterTable('campaigns')
    .addColumn('recent_outcomes', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('campaigns')
    .addColumn('sends_recorded', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  for (const column of ['delivered_at', 'read_at', 'failed_at', 'send_seq']) {
    await db.schema.alterTable('campaign_recipients').addColumn(column, 'bigint').execute();
  }

  await db.schema.alterTable('templates').addColumn('quality', 'text').execute();

  // The pricing of each outbound message, as its statuses last reported it.
  for (const column of ['pricing_category', 'pricing_model', 'pricing_type']) {
    await db.schema.alterTable('messages').addColumn(column, 'text').execute();
  }
  await db.schema.alterTable('messages').addColumn('pricing_billable', 'integer').execute();

  // Messages per hour that Meta reported a pricing for, by what sent them (kind, campaign), category
  // and the recipient's first four digits (enough for the longest calling code a rate card names).
  await db.schema
    .createTable('pricing_counts')
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('billable', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('free', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('pricing_counts_pk', ['hour', 'kind', 'campaign_id', 'category', 'prefix'])
    .execute();
  await db.schema
    .createIndex('pricing_counts_campaign')
    .on('pricing_counts')
    .columns(['campaign_id', 'hour'])
    .where(sql.ref('campaign_id'), '<>', '')
    .execute();

  // Customer replies earned by a campaign send or a follow-up, by the hour they came.
  await db.schema
    .createTable('earned_replies')
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('earned_replies_pk', ['hour', 'kind'])
    .execute();
  // A follow-up earns at most one reply.
  await db.schema.alterTable('follow_ups').addColumn('replied_at', 'bigint').execute();
}
