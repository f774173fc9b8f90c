// Minute rollups over time: migration 0007 fills them from the turns and follow-ups already stored
// (and keeps the hour and day rows), and housekeeping drops them once no window can reach them.
import { Migrator } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { HOUR_MS, MINUTE_MS, responseBucket } from '../../src/insights/insight-math.js';
import { MINUTE_ROLLUP_RETENTION_MS, rollupKeys } from '../../src/insights/insight-rollups.js';
import { type OpenedDatabase, openDatabase } from '../../src/store/db.js';
import { insightsRepo } from '../../src/store/insights-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const DAY = 24 * HOUR_MS;
const NEWEST = Date.parse('2026-01-05T12:00:00Z');
const at = (iso: string) => Date.parse(`2026-01-${iso}Z`);

let opened: OpenedDatabase | undefined;
let t: TestApp | undefined;
afterEach(async () => {
  await opened?.close();
  await t?.close();
  opened = undefined;
  t = undefined;
});

type MinuteRow = {
  agent_id: number;
  start: number;
  turns: number;
  answered: number;
  hist: Record<string, number>;
  silences: number;
  covered: number;
  campaign_sent: number;
  campaign_replied: number;
};

async function minuteRows(o: OpenedDatabase): Promise<MinuteRow[]> {
  const rows = await o.db
    .selectFrom('insight_rollups')
    .selectAll()
    .where('period', '=', 'm')
    .orderBy('agent_id')
    .orderBy('start')
    .execute();
  return rows.map((r) => ({
    agent_id: Number(r.agent_id),
    start: Number(r.start),
    turns: Number(r.turns),
    answered: Number(r.answered),
    hist: JSON.parse(r.response_hist) as Record<string, number>,
    silences: Number(r.silences),
    covered: Number(r.covered),
    campaign_sent: Number(r.campaign_sent),
    campaign_replied: Number(r.campaign_replied),
  }));
}

describe('migration 0007', () => {
  it('fills minute rows from the stored turns, follow-ups and campaign sends and keeps the hour and day rows', async () => {
    opened = openDatabase(':memory:');
    const { db, sqlite } = opened;
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const to6 = await migrator.migrateTo('0006_insights');
    expect(to6.error).toBeUndefined();

    const ins = (text: string, ...values: unknown[]) => sqlite.prepare(text).run(...values);
    ins(
      `insert into agents (id, uuid, name, kind, phone_number_id, created_at) values (1, 'a1', 'A', 'private', 'pn1', 0)`,
    );
    for (const k of ['k1', 'k2'])
      ins(`insert into contacts (id, created_at, updated_at) values (?, 0, 0)`, k);
    const conv = `insert into conversations (id, phone_number_id, contact_id, agent_id, queue_state, assigned_route,
      opened_at, updated_at, last_message_at) values (?, ?, ?, ?, 'pending', 'ai', 0, 0, 0)`;
    ins(conv, 'c1', 'pn1', 'k1', 1);
    ins(conv, 'c2', 'pn9', 'k2', null);
    const turn = `insert into customer_turns (id, conversation_id, agent_id, started_at, answered_at, response_ms)
      values (?, ?, ?, ?, ?, ?)`;
    // Two turns in one minute (one answered in 42 s), one unanswered, one older than the backfill.
    ins(turn, 't1', 'c1', 1, at('05T10:15:05'), at('05T10:15:47'), 42_000);
    ins(turn, 't2', 'c1', 1, at('05T10:15:59.999'), null, null);
    ins(turn, 't3', 'c2', 0, at('05T11:00:00'), at('05T11:05:00'), 300_000);
    ins(turn, 't4', 'c1', 1, NEWEST - 40 * DAY, NEWEST - 40 * DAY + 1000, 1000);
    ins(turn, 't5', 'c1', 1, NEWEST, null, null);
    // Hour and day rows as 0006 kept them: copied over as they are.
    ins(
      `insert into insight_rollups (agent_id, period, start, turns, answered, response_hist, silences, covered)
      values (1, 'h', ?, 2, 1, '{"42":1}', 1, 1)`,
      at('05T10:00:00'),
    );
    ins(
      `insert into insight_rollups (agent_id, period, start, turns, answered, response_hist, silences, covered)
      values (-1, 'd', ?, 7, 3, '{"1":1}', 2, 1)`,
      at('05T00:00:00'),
    );

    // Rule "nudge" waits 30 min; quiet hours pushed one first follow-up later (its due time, not its
    // point). Cancelled before its point: the silence never reached it.
    const fu = `insert into follow_ups (id, conversation_id, rule_id, silence_from, sequence, due_at, state,
      created_at, updated_at) values (?, ?, 'nudge', ?, ?, ?, ?, 0, ?)`;
    const s1 = at('05T09:00:10');
    ins(fu, 'f1', 'c1', s1, 0, s1 + 30 * MINUTE_MS, 'sent', s1 + 30 * MINUTE_MS);
    // The silence's second follow-up (another rule): not a first one, so it counts nowhere.
    ins(
      `insert into follow_ups (id, conversation_id, rule_id, silence_from, sequence, due_at, state, created_at,
        updated_at) values ('f1b', 'c1', 'again', ?, 1, ?, 'cancelled', 0, ?)`,
      s1,
      s1 + 2 * HOUR_MS,
      s1 + HOUR_MS,
    );
    const s2 = at('05T09:10:00');
    ins(fu, 'f2', 'c2', s2, 0, s2 + 3 * HOUR_MS, 'scheduled', s2);
    const s3 = at('05T09:20:00');
    ins(fu, 'f3', 'c1', s3, 0, s3 + 30 * MINUTE_MS, 'cancelled', s3 + 10 * MINUTE_MS);
    const s4 = at('05T09:30:00');
    ins(fu, 'f4', 'c1', s4, 0, s4 + 30 * MINUTE_MS, 'cancelled', s4 + 40 * MINUTE_MS);

    // Campaign sends: one replied to (in a minute the turns use too), one 40 days old (hour and day
    // rows only), one not sent yet.
    ins(`insert into campaigns (id, agent_id, phone_number_id, name, state, template, rate_per_second, created_at,
      updated_at, recipients_total) values ('camp', 1, 'pn1', 'Camp', 'running', '{}', 1, 0, 0, 3)`);
    const rcp = `insert into campaign_recipients (id, campaign_id, "index", wa_id, state, sent_at, replied_at, updated_at)
      values (?, 'camp', ?, ?, ?, ?, ?, 0)`;
    const oldSend = NEWEST - 40 * DAY;
    ins(rcp, 'rc1', 0, '491700000001', 'replied', at('05T10:15:30'), at('05T11:00:00'));
    ins(rcp, 'rc2', 1, '491700000002', 'delivered', oldSend, null);
    ins(rcp, 'rc3', 2, '491700000003', 'queued', null, null);

    // Outbox rows: two unsent in c1 (agent 1), one sent there, one unsent in c2 (no agent), two unsent
    // with no conversation on channel pn7.
    const ob = `insert into outbox (id, conversation_id, phone_number_id, "to", kind, priority, payload, state,
      attempts, next_attempt_at, created_at, updated_at) values (?, ?, ?, '49170', 'manual', 2, '{}', ?, 0, 0, 0, 0)`;
    ins(ob, 'o1', 'c1', 'pn1', 'queued');
    ins(ob, 'o2', 'c1', 'pn1', 'sending');
    ins(ob, 'o3', 'c1', 'pn1', 'sent');
    ins(ob, 'o4', 'c2', 'pn9', 'queued');
    ins(ob, 'o5', null, 'pn7', 'queued');
    ins(ob, 'o6', null, 'pn7', 'queued');

    await migrateToLatest(db);
    expect(sqlite.prepare('select owner, n from outbound_pending_counts order by owner').all()).toEqual([
      { owner: 'agent:0', n: 1 },
      { owner: 'agent:1', n: 2 },
      { owner: 'channel:pn7', n: 2 },
    ]);
    const h42 = String(responseBucket(42_000));
    const h300 = String(responseBucket(300_000));
    const m = (agent_id: number, start: number, r: Partial<MinuteRow>): MinuteRow => ({
      agent_id,
      start,
      turns: 0,
      answered: 0,
      hist: {},
      silences: 0,
      covered: 0,
      campaign_sent: 0,
      campaign_replied: 0,
      ...r,
    });
    const p1 = at('05T09:30:00'); // s1 + 30 min, floored to the minute
    const p2 = at('05T09:40:00');
    const p4 = at('05T10:00:00');
    const t1 = at('05T10:15:00');
    const t3 = at('05T11:00:00');
    expect(await minuteRows(opened)).toEqual([
      m(-1, p1, { silences: 1, covered: 1 }),
      m(-1, p2, { silences: 1 }),
      m(-1, p4, { silences: 1 }),
      m(-1, t1, { turns: 2, answered: 1, hist: { [h42]: 1 }, campaign_sent: 1, campaign_replied: 1 }),
      m(-1, t3, { turns: 1, answered: 1, hist: { [h300]: 1 } }),
      m(-1, NEWEST, { turns: 1 }),
      m(0, p2, { silences: 1 }),
      m(0, t3, { turns: 1, answered: 1, hist: { [h300]: 1 } }),
      m(1, p1, { silences: 1, covered: 1 }),
      m(1, p4, { silences: 1 }),
      m(1, t1, { turns: 2, answered: 1, hist: { [h42]: 1 }, campaign_sent: 1, campaign_replied: 1 }),
      m(1, NEWEST, { turns: 1 }),
    ]);
    const kept = sqlite
      .prepare(`select agent_id, period, start, turns, answered, response_hist, silences, covered, campaign_sent,
        campaign_replied from insight_rollups where period <> 'm' order by period, agent_id, start`)
      .all();
    const row = (agent_id: number, period: string, start: number, r: Record<string, unknown>) => ({
      agent_id,
      period,
      start,
      turns: 0,
      answered: 0,
      response_hist: '{}',
      silences: 0,
      covered: 0,
      campaign_sent: 0,
      campaign_replied: 0,
      ...r,
    });
    const oldDay = Math.floor(oldSend / DAY) * DAY;
    const oldHour = Math.floor(oldSend / HOUR_MS) * HOUR_MS;
    const sentReplied = { campaign_sent: 1, campaign_replied: 1 };
    expect(kept).toEqual([
      row(-1, 'd', oldDay, { campaign_sent: 1 }),
      row(-1, 'd', at('05T00:00:00'), {
        turns: 7,
        answered: 3,
        response_hist: '{"1":1}',
        silences: 2,
        covered: 1,
        ...sentReplied,
      }),
      row(1, 'd', oldDay, { campaign_sent: 1 }),
      row(1, 'd', at('05T00:00:00'), sentReplied),
      row(-1, 'h', oldHour, { campaign_sent: 1 }),
      row(-1, 'h', at('05T10:00:00'), sentReplied),
      row(1, 'h', oldHour, { campaign_sent: 1 }),
      row(1, 'h', at('05T10:00:00'), {
        turns: 2,
        answered: 1,
        response_hist: '{"42":1}',
        silences: 1,
        covered: 1,
        ...sentReplied,
      }),
    ]);
    // The rebuilt table still refuses unknown periods.
    expect(() => ins(`insert into insight_rollups (agent_id, period, start) values (1, 'w', 0)`)).toThrow(
      /CHECK/,
    );
  });

  it('on an empty database adds the tables and indexes and nothing else', async () => {
    opened = openDatabase(':memory:');
    await migrateToLatest(opened.db);
    expect(await minuteRows(opened)).toEqual([]);
    const made = opened.sqlite
      .prepare(
        `select name from sqlite_master where name in ('insight_rollups_period_start', 'outbound_pending_counts')`,
      )
      .all();
    expect(made).toHaveLength(2);
    expect(opened.sqlite.prepare('select * from outbound_pending_counts').all()).toEqual([]);
  });
});

describe('minute rollup retention', () => {
  it('a scheduler tick drops minute rows past retention and keeps the newer ones and every hour and day row', async () => {
    t = await createTestApp({ start: '2026-03-01T00:00:00Z' });
    const db = t.deps.db;
    const now = t.clock.now();
    const old = now - MINUTE_ROLLUP_RETENTION_MS - MINUTE_MS;
    const edge = now - MINUTE_ROLLUP_RETENTION_MS;
    for (const when of [old, edge, now - HOUR_MS]) {
      await insightsRepo.bump(db, rollupKeys(1, when), { turns: 1 });
      await insightsRepo.bump(db, rollupKeys(null, when), { turns: 1 });
    }
    await t.deps.outbound.scheduler.tick();
    const left = await db
      .selectFrom('insight_rollups')
      .select(['period', 'start'])
      .where('agent_id', '=', 1)
      .orderBy('period')
      .orderBy('start')
      .execute();
    const periods = (p: string) => left.filter((r) => r.period === p).map((r) => Number(r.start));
    expect(periods('m')).toEqual([edge, now - HOUR_MS]);
    expect(periods('h')).toHaveLength(3);
    expect(periods('d')).toHaveLength(3);
  });

  it('prunes in batches of the scheduler batch size, a whole minute at a time', async () => {
    t = await createTestApp({ start: '2026-03-01T00:00:00Z', config: { scheduler: { batch_size: 2 } } });
    const db = t.deps.db;
    const base = t.clock.now() - MINUTE_ROLLUP_RETENTION_MS - 10 * MINUTE_MS;
    for (let k = 0; k < 5; k++)
      await insightsRepo.bump(db, rollupKeys(1, base + k * MINUTE_MS), { turns: 1 });
    const count = async () =>
      Number(
        (
          await db
            .selectFrom('insight_rollups')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('period', '=', 'm')
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count()).toBe(10); // agent 1 and every agent, 5 minutes
    // The batch's second row is the first minute's every-agent row: that minute goes whole.
    expect(await insightsRepo.pruneMinuteRollups(db, t.clock.now() - MINUTE_ROLLUP_RETENTION_MS, 2)).toBe(2);
    expect(await insightsRepo.pruneMinuteRollups(db, t.clock.now() - MINUTE_ROLLUP_RETENTION_MS, 3)).toBe(4);
    await t.deps.outbound.scheduler.tick();
    expect(await count()).toBe(2);
    await t.deps.outbound.scheduler.tick();
    expect(await count()).toBe(0);
  });
});
