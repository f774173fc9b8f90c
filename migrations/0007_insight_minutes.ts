// Minute rollups for insights (SPEC §8, issue 7): a window's partial hours at both ends are read from
// minute rows (period 'm') instead of the raw turns and follow-ups, whose count grows with traffic.
// insight_rollups is rebuilt to allow the new period (a column check cannot be altered in SQLite),
// gets a (period, start) index so housekeeping prunes old minute rows by range, and the minute rows
// of the last 31 days of existing history are filled from customer_turns and follow_ups.
// The rows also count campaign sends and their replies by send time, so the campaign response rate
// no longer counts recipients per request (back-filled for every period from campaign_recipients).
// Also: outbound_pending_counts, the outbox rows not yet accepted by the API per owner (the agent of
// their conversation, or their channel when they have none), kept by store/outbox-repo.ts, so queue
// pressure no longer counts the outbox per request.
import { type Kysely, sql } from 'kysely';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Minute rows are read for windows up to 30 days back; the backfill covers a day more. */
const BACKFILL = 31 * DAY;
const ALL_AGENTS = -1;

// The response-time histogram buckets as they were when this migration shipped (a copy of
// src/insights/insight-math.ts's responseBucket at the time: migrations are frozen history and import
// no live code; the minute rows it fills must hold the same buckets as the rest). 1 s steps under a
// minute, 10 s under 10 min, 1 min under an hour, 15 min under a day, 1 h under a week, then one
// overflow bucket. Each range: [from s, step s, buckets].
const RANGES: [number, number, number][] = [
  [0, 1, 60],
  [60, 10, 54],
  [600, 60, 50],
  [3600, 900, 92],
  [86_400, 3600, 144],
];
const OVERFLOW_BUCKET = RANGES.reduce((n, r) => n + r[2], 0);

function responseBucket(ms: number): number {
  const s = Math.max(0, ms) / 1000;
  let base = 0;
  for (const [from, step, count] of RANGES) {
    if (s < from + step * count) return base + Math.floor((s - from) / step);
    base += count;
  }
  return OVERFLOW_BUCKET;
}

interface MinuteRow {
  turns: number;
  answered: number;
  hist: Record<string, number>;
  silences: number;
  covered: number;
  campaign_sent: number;
  campaign_replied: number;
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
    // Campaign recipients whose send was accepted in the period, and those of them who wrote back
    // within the attribution window.
    .addColumn('campaign_sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('campaign_replied', 'integer', (c) => c.notNull().defaultTo(0))
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
    .createTable('outbound_pending_counts')
    // "agent:<id>" (0: a conversation no agent owns) or "channel:<phone_number_id>" (no conversation).
    .addColumn('owner', 'text', (c) => c.primaryKey())
    .addColumn('n', 'integer', (c) => c.notNull())
    .execute();
  const owner = sql<string>`case when o.conversation_id is null then 'channel:' || o.phone_number_id
    else 'agent:' || cast(coalesce(c.agent_id, 0) as text) end`;
  await db
    .insertInto('outbound_pending_counts')
    .columns(['owner', 'n'])
    .expression(
      db
        .selectFrom('outbox as o')
        .leftJoin('conversations as c', 'c.id', 'o.conversation_id')
        .select((eb) => [owner.as('owner'), eb.fn.countAll().as('n')])
        .where('o.state', 'in', ['queued', 'sending'])
        .groupBy(owner),
    )
    .execute();

  await backfillCampaigns(db);

  const newest = await db
    .selectFrom('customer_turns')
    .select((eb) => eb.fn.max('started_at').as('at'))
    .executeTakeFirst();
  const newestSilence = await db
    .selectFrom('follow_ups')
    .select((eb) => eb.fn.max('silence_from').as('at'))
    .executeTakeFirst();
  const newestSend = await db
    .selectFrom('campaign_recipients')
    .select((eb) => eb.fn.max('sent_at').as('at'))
    .executeTakeFirst();
  const last = Math.max(Number(newest?.at ?? 0), Number(newestSilence?.at ?? 0), Number(newestSend?.at ?? 0));
  if (last === 0) return;
  const cutoff = Math.floor((last - BACKFILL) / MINUTE) * MINUTE;

  const rows = new Map<string, MinuteRow>();
  const add = (agent: number, at: number, f: (r: MinuteRow) => void) => {
    for (const a of [agent, ALL_AGENTS]) {
      const key = `${a}:${Math.floor(at / MINUTE) * MINUTE}`;
      let r = rows.get(key);
      if (!r) {
        r = {
          turns: 0,
          answered: 0,
          hist: {},
          silences: 0,
          covered: 0,
          campaign_sent: 0,
          campaign_replied: 0,
        };
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

  for (const m of await campaignSends(db, cutoff, MINUTE)) {
    add(m.agent_id, m.start, (r) => {
      r.campaign_sent += m.sent;
      r.campaign_replied += m.replied;
    });
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
      campaign_sent: r.campaign_sent,
      campaign_replied: r.campaign_replied,
    };
  });
  for (let i = 0; i < values.length; i += 500) {
    await db
      .insertInto('insight_rollups')
      .values(values.slice(i, i + 500))
      .execute();
  }
}

/**
 * Campaign sends accepted from `from` on, counted per agent and `size` period of their send time; a
 * recipient with a reply wrote back within the attribution window (replies are attributed only then).
 */
async function campaignSends(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
  db: Kysely<any>,
  from: number,
  size: number,
): Promise<{ agent_id: number; start: number; sent: number; replied: number }[]> {
  const start = sql<number>`r.sent_at - (r.sent_at % ${sql.lit(size)})`;
  const rows = await db
    .selectFrom('campaign_recipients as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .select((eb) => [
      'c.agent_id',
      start.as('start'),
      eb.fn.countAll().as('sent'),
      eb.fn.count('r.replied_at').as('replied'),
    ])
    .where('r.sent_at', '>=', from)
    .groupBy(['c.agent_id', start])
    .execute();
  return rows.map((r) => ({
    agent_id: Number(r.agent_id),
    start: Number(r.start),
    sent: Number(r.sent),
    replied: Number(r.replied),
  }));
}

/** Hour and day rows of every campaign send so far (minute rows follow with the rest). */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
async function backfillCampaigns(db: Kysely<any>): Promise<void> {
  const counts = new Map<string, { sent: number; replied: number }>();
  for (const h of await campaignSends(db, 0, HOUR)) {
    for (const agent of [h.agent_id, ALL_AGENTS]) {
      for (const [period, start] of [
        ['h', h.start],
        ['d', Math.floor(h.start / DAY) * DAY],
      ] as const) {
        const key = `${agent}:${period}:${start}`;
        const c = counts.get(key) ?? { sent: 0, replied: 0 };
        c.sent += h.sent;
        c.replied += h.replied;
        counts.set(key, c);
      }
    }
  }
  const values = [...counts].map(([key, c]) => {
    const [agent, period, start] = key.split(':');
    return {
      agent_id: Number(agent),
      period,
      start: Number(start),
      campaign_sent: c.sent,
      campaign_replied: c.replied,
    };
  });
  for (let i = 0; i < values.length; i += 500) {
    await db
      .insertInto('insight_rollups')
      .values(values.slice(i, i + 500))
      .onConflict((oc) =>
        oc.columns(['agent_id', 'period', 'start']).doUpdateSet({
          campaign_sent: sql`excluded.campaign_sent`,
          campaign_replied: sql`excluded.campaign_replied`,
        }),
      )
      .execute();
  }
}
