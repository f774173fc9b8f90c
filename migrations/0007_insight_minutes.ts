// Minute rollups for insights (SPEC §8, issue 7): a window's partial hours at both ends are read from
// minute rows (period 'm') instead of the raw turns and follow-ups, whose count grows with traffic.
// insight_rollups is rebuilt to allow the new period (a column check cannot be altered in SQLite),
// gets a (period, start) index so housekeeping prunes old minute rows by range, and the minute rows
// of the last 31 days of existing history are filled from customer_turns and follow_ups.
// Also: a partial index of the outbox rows not yet accepted by the API, so queue pressure counts
// those rows whatever the planner's statistics say (the outbox keeps every message ever sent).
import { type Kysely, sql } from 'kysely';
// The one definition of the histogram buckets: minute rows must hold the same buckets as the rest.
import { responseBucket } from '../src/extension/insight-math.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Minute rows are read for windows up to 30 days back; the backfill covers a day more. */
const BACKFILL = 31 * DAY;
const ALL_AGENTS = -1;

interface MinuteRow {
  turns: number;
  answered: number;
  hist: Record<string, number>;
  silences: number;
  covered: number;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('insight_rollups').renameTo('insight_rollups_0006').execute();
  await db.schema
    .createTable('insight_rollups')
    .addColumn('agent_id', 'integer', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull().check(sql`period in ('m', 'h', 'd')`))
    .addColumn('start', 'bigint', (c) => c.notNull())
    .addColumn('turns', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('answered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('response_hist', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('silences', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('covered', 'integer', (c) => c.notNull().defaultTo(0))
    // A new name: on PostgreSQL the old table's constraint keeps its name until the table is dropped.
    .addPrimaryKeyConstraint('insight_rollups_period_pk', ['agent_id', 'period', 'start'])
    .execute();
  await sql`
    insert into insight_rollups (agent_id, period, start, turns, answered, response_hist, silences, covered)
    select agent_id, period, start, turns, answered, response_hist, silences, covered from insight_rollups_0006
  `.execute(db);
  await db.schema.dropTable('insight_rollups_0006').execute();
  await db.schema
    .createIndex('insight_rollups_period_start')
    .on('insight_rollups')
    .columns(['period', 'start'])
    .execute();

  await db.schema
    .createIndex('outbox_unsent')
    .on('outbox')
    // Covering for the per-agent count (conversation, or phone number when there is none).
    .columns(['state', 'conversation_id', 'phone_number_id'])
    .where(sql<boolean>`state in ('queued', 'sending')`)
    .execute();

  const newest = await db
    .selectFrom('customer_turns')
    .select((eb) => eb.fn.max('started_at').as('at'))
    .executeTakeFirst();
  const newestSilence = await db
    .selectFrom('follow_ups')
    .select((eb) => eb.fn.max('silence_from').as('at'))
    .executeTakeFirst();
  const last = Math.max(Number(newest?.at ?? 0), Number(newestSilence?.at ?? 0));
  if (last === 0) return;
  const cutoff = Math.floor((last - BACKFILL) / MINUTE) * MINUTE;

  const rows = new Map<string, MinuteRow>();
  const add = (agent: number, at: number, f: (r: MinuteRow) => void) => {
    for (const a of [agent, ALL_AGENTS]) {
      const key = `${a}:${Math.floor(at / MINUTE) * MINUTE}`;
      let r = rows.get(key);
      if (!r) {
        r = { turns: 0, answered: 0, hist: {}, silences: 0, covered: 0 };
        rows.set(key, r);
      }
      f(r);
    }
  };

  // Turns, a day at a time (an index range each).
  for (let from = cutoff; from <= last; from += DAY) {
    const turns = await db
      .selectFrom('customer_turns')
      .select(['agent_id', 'started_at', 'response_ms'])
      .where('started_at', '>=', from)
      .where('started_at', '<', from + DAY)
      .execute();
    for (const t of turns) {
      const response = t.response_ms === null ? null : Number(t.response_ms);
      add(Number(t.agent_id), Number(t.started_at), (r) => {
        r.turns += 1;
        if (response !== null) {
          r.answered += 1;
          const b = String(responseBucket(response));
          r.hist[b] = (r.hist[b] ?? 0) + 1;
        }
      });
    }
  }

  // Silences count at their point, silence start + the first rule's `after`. The config is not at
  // hand here, so each rule's `after` is the shortest planned delay of its first follow-ups (quiet
  // hours only ever push a due time later).
  const afters = new Map(
    (
      await db
        .selectFrom('follow_ups')
        .select(['rule_id', (eb) => eb.fn.min(sql<number>`due_at - silence_from`).as('after')])
        .where('sequence', '=', 0)
        .groupBy('rule_id')
        .execute()
    ).map((r) => [r.rule_id as string, Number(r.after)]),
  );
  const longest = Math.max(0, ...afters.values());
  for (let from = cutoff - longest; from <= last; from += DAY) {
    const firsts = await db
      .selectFrom('follow_ups as f')
      .leftJoin('conversations as c', 'c.id', 'f.conversation_id')
      .select((eb) => [
        'f.rule_id',
        'f.silence_from',
        'f.state',
        'f.updated_at',
        'c.agent_id',
        eb
          .exists(
            eb
              .selectFrom('follow_ups as s')
              .select('s.id')
              .whereRef('s.conversation_id', '=', 'f.conversation_id')
              .whereRef('s.silence_from', '=', 'f.silence_from')
              .where('s.state', '=', 'sent'),
          )
          .as('covered'),
      ])
      .where('f.sequence', '=', 0)
      .where('f.silence_from', '>=', from)
      .where('f.silence_from', '<', from + DAY)
      .execute();
    for (const f of firsts) {
      const point = Number(f.silence_from) + (afters.get(f.rule_id) ?? 0);
      if (point < cutoff) continue;
      // Cancelled before its point: the customer wrote (or it was closed) while the silence was short.
      if (f.state === 'cancelled' && Number(f.updated_at) < point) continue;
      const covered = Number(f.covered) === 1;
      add(Number(f.agent_id ?? 0), point, (r) => {
        r.silences += 1;
        if (covered) r.covered += 1;
      });
    }
  }

  const values = [...rows].map(([key, r]) => {
    const [agent, start] = key.split(':');
    return {
      agent_id: Number(agent),
      period: 'm',
      start: Number(start),
      turns: r.turns,
      answered: r.answered,
      response_hist: JSON.stringify(r.hist),
      silences: r.silences,
      covered: r.covered,
    };
  });
  for (let i = 0; i < values.length; i += 500) {
    await db
      .insertInto('insight_rollups')
      .values(values.slice(i, i + 500))
      .execute();
  }
}
