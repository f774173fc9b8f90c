// Insights rollups (SPEC §8): kept current by the conversation engine as events arrive, so the
// insights endpoint reads a handful of rows instead of scanning message history.
// - customer_turns: one row per customer turn (start, first accepted business answer, response time);
// - insight_rollups: per agent (and for all agents) and per hour and per day, turns by start time,
//   answered turns, a response-time histogram, and follow-up silences and their coverage;
// - conversation_state_counts: how many conversations each agent has per state, split by whether the
//   customer's last turn is unanswered (queue pressure).
// agent_id 0 stands for "no agent owns the channel" so every key is non-null (and portable).
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customer_turns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('answered_at', 'bigint')
    .addColumn('response_ms', 'bigint')
    .execute();
  // The engine finds a conversation's open turn; window edges and exact percentiles are range scans
  // that the index answers alone (covering).
  await db.schema
    .createIndex('customer_turns_conversation')
    .on('customer_turns')
    .columns(['conversation_id', 'started_at'])
    .execute();
  await db.schema
    .createIndex('customer_turns_agent_started')
    .on('customer_turns')
    .columns(['agent_id', 'started_at', 'response_ms'])
    .execute();
  await db.schema
    .createIndex('customer_turns_started')
    .on('customer_turns')
    .columns(['started_at', 'response_ms'])
    .execute();

  // Period 'h' (hour) and 'd' (UTC day) rows; agent_id -1 holds the sum over every agent, so a 30-day
  // window for everyone reads about 30 day rows and 47 hour rows, whatever the history holds.
  await db.schema
    .createTable('insight_rollups')
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull().check(sql`period in ('h', 'd')`))
    .addColumn('start', 'bigint', (c) => c.notNull())
    // Customer turns that started in the period, and how many of them were answered.
    .addColumn('turns', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('answered', 'integer', (c) => c.notNull().defaultTo(0))
    // JSON object: response-time bucket index → answered turns (extension/insight-math.ts).
    .addColumn('response_hist', 'text', (c) => c.notNull().defaultTo('{}'))
    // Silences whose first follow-up point fell in the period, and those a follow-up covered.
    .addColumn('silences', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('covered', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('insight_rollups_pk', ['agent_id', 'period', 'start'])
    .execute();

  await db.schema
    .createTable('conversation_state_counts')
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('queue_state', 'text', (c) => c.notNull())
    .addColumn('waiting', 'integer', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('conversation_state_counts_pk', ['agent_id', 'queue_state', 'waiting'])
    .execute();
  // Conversations that exist already are counted once here; from now on the engine keeps it current.
  await sql`
    insert into conversation_state_counts (agent_id, queue_state, waiting, n)
    select coalesce(agent_id, 0), queue_state, case when unanswered_count > 0 then 1 else 0 end, count(*)
    from conversations
    group by coalesce(agent_id, 0), queue_state, case when unanswered_count > 0 then 1 else 0 end
  `.execute(db);

  // Follow-up coverage at the window's edges walks the first follow-up of each silence by its start.
  await db.schema
    .createIndex('follow_ups_silence_start')
    .on('follow_ups')
    .columns(['sequence', 'silence_from'])
    .execute();
}
