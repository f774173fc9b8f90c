// Outreach campaigns (SPEC §7): the campaign with its counts per recipient state kept current as
// recipients move (reads never count rows), and one row per recipient whose state and outbox_id are
// the progress cursor, so pause, resume and restart never send anyone twice. A partial unique index
// on the outbox makes "one live outbox row per recipient" a database fact.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'integer', (c) => c.notNull().references('agents.id'))
    .addColumn('phone_number_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .check(sqlIn('state', ['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled'])),
    )
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('rate_per_second', 'real', (c) => c.notNull())
    .addColumn('start_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('paused_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('cancelled_at', 'bigint')
    .addColumn('recipients_total', 'integer', (c) => c.notNull())
    .addColumn('count_queued', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('count_sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('count_delivered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('count_read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('count_replied', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('count_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('count_skipped_opted_out', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // The feeder walks campaigns that may have work; listing is newest first.
  await db.schema.createIndex('campaigns_state').on('campaigns').columns(['state', 'id']).execute();

  await db.schema
    .createTable('campaign_recipients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
    .addColumn('index', 'integer', (c) => c.notNull())
    .addColumn('wa_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('parameters', 'text')
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .check(
          sqlIn('state', ['queued', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped_opted_out']),
        ),
    )
    .addColumn('outbox_id', 'text')
    .addColumn('wamid', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('sent_at', 'bigint')
    .addColumn('replied_at', 'bigint')
    .addColumn('conversation_id', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('campaign_recipients_once', ['campaign_id', 'wa_id'])
    .execute();
  // Feeding: queued recipients not yet in the outbox in list order, and those in the outbox (both
  // without walking the whole queue). Listing in list order.
  await db.schema
    .createIndex('campaign_recipients_state')
    .on('campaign_recipients')
    .columns(['campaign_id', 'state', 'outbox_id', 'index'])
    .execute();
  await db.schema
    .createIndex('campaign_recipients_index')
    .on('campaign_recipients')
    .columns(['campaign_id', 'index'])
    .execute();
  // Statuses find their recipient by wamid; replies by the customer's number and send time (and an
  // opt-out by the number alone, so that index is whole); insights count sends in a window. The other
  // two are partial: recipients not yet sent stay out of them.
  await db.schema
    .createIndex('campaign_recipients_wamid')
    .on('campaign_recipients')
    .column('wamid')
    .where(sql.ref('wamid'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('campaign_recipients_customer')
    .on('campaign_recipients')
    .columns(['wa_id', 'sent_at'])
    .execute();
  await db.schema
    .createIndex('campaign_recipients_sent_at')
    .on('campaign_recipients')
    .column('sent_at')
    .where(sql.ref('sent_at'), 'is not', null)
    .execute();

  // One live outbox row per campaign recipient: a cancelled row (pause, opt-out) leaves the index so
  // a resume can queue the recipient again; anything else would be a second send.
  await db.schema
    .createIndex('outbox_campaign_recipient_once')
    .on('outbox')
    .column('campaign_recipient_id')
    .unique()
    .where(sql<boolean>`campaign_recipient_id is not null and state <> 'cancelled'`)
    .execute();
}

function sqlIn(column: string, values: string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
