// Insights at scale (SPEC §8, issue 7, issue 20): GET .../runtime/insights latency (p50, p99) over a
// database of 10,000 conversations / 100,000 messages and one of 1,000,000 conversations / 10,000,000
// messages (90 days of synthetic history over 10 agents, rows inserted directly in bulk, rollups and
// conversation states as the daemon would have left them), for one agent and for every agent, windows
// 24h and 30d. The target: p99 under 50 ms at the large size, p50 and p99 within 2x of the small one.
// Through the real daemon (app.request: auth, zod, rollup reads, JSON), single client, after a warm-up;
// both sizes' daemons run in this one process and are asked in alternation (2,000 requests per case
// and size), so the machine's load falls on both alike; the p99 ratio is printed beside the p50 one.
// Alone: `node --import tsx bench/insights/run.ts [--quick] [--sizes 10000,1000000]` writes
// bench/results/insights-<time>.json; `npm run bench` runs it with the others.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Kysely, SqliteDialect } from 'kysely';
import pino from 'pino';
import { createToken } from '../../src/auth/tokens.js';
import { resolveConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startDaemon } from '../../src/daemon.js';
import { responseBucket } from '../../src/insights/insight-math.js';
import { MINUTE_ROLLUP_RETENTION_MS } from '../../src/insights/insight-rollups.js';
import { computeInsight } from '../../src/insights/insights.js';
import { FakeClock } from '../../src/lib/clock.js';
import { parseDuration } from '../../src/lib/duration.js';
import { openDatabase } from '../../src/store/db.js';
import { outboundOwner } from '../../src/store/insights-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/tables.js';
import { type BenchRow, compared, defineBenchmark } from '../lib/benchmark.js';
import { describeMachine } from '../lib/machine.js';
import { writeResults } from '../lib/results.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const HISTORY_DAYS = 90;
const AGENTS = 10;
const MESSAGES_PER_CONVERSATION = 10;
// Half past and 20.5 s: both ends of every window are partial hours (read from minute rows) with a
// partial minute at each end (read from the turns and follow-ups themselves).
export const NOW = Date.parse('2026-03-01T00:30:20.500Z');
/** conversations.close_after as the bench configures it (the default): idle pending conversations close. */
const CLOSE_AFTER = 72 * HOUR;
/** Minute rows as housekeeping leaves them (insights/insight-rollups.ts: kept 31 days). */
const MINUTE_ROWS_FROM = NOW - MINUTE_ROLLUP_RETENTION_MS;
const PATH = '/api/extensions/native-whatsapp/runtime/insights';

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same history. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rollup {
  turns: number;
  answered: number;
  hist: Record<string, number>;
  silences: number;
  covered: number;
}

/** Builds the synthetic database; returns how many rows of each kind it holds. */
export async function populate(file: string, conversations: number, log: (m: string) => void) {
  const { db, sqlite, close } = openDatabase(file);
  await migrateToLatest(db);
  sqlite.pragma('journal_mode = MEMORY');
  sqlite.pragma('synchronous = OFF');
  // Rows of one conversation go in child-first (its times are known only after its messages).
  sqlite.pragma('foreign_keys = OFF');
  const random = rng(conversations);
  const at = NOW - HISTORY_DAYS * DAY;

  const insAgent = sqlite.prepare(
    'insert into agents (uuid, name, kind, phone_number_id, created_at) values (?, ?, ?, ?, ?)',
  );
  sqlite.transaction(() => {
    for (let a = 1; a <= AGENTS; a++) insAgent.run(`agent-${a}`, `Agent ${a}`, 'private', `pnid${a}`, at);
  })();

  const insContact = sqlite.prepare(
    'insert into contacts (id, wa_id, user_id, username, profile_name, created_at, updated_at) values (?, ?, null, null, ?, ?, ?)',
  );
  const insConv = sqlite.prepare(`insert into conversations (id, phone_number_id, contact_id, agent_id,
      queue_state, assigned_route, conversation_class, priority, opened_at, updated_at, closed_at,
      closed_reason, last_message_at, last_customer_message_at, last_business_message_at,
      window_expires_at, unanswered_count, turns_total, turns_answered, pending_outbound)
      values (?, ?, ?, ?, ?, 'ai', 'general', 'normal', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`);
  const insMessage = sqlite.prepare(`insert into messages (id, wamid, conversation_id, contact_id,
      phone_number_id, direction, type, text, status, timestamp, created_at, payload)
      values (?, ?, ?, ?, ?, ?, 'text', 'hello', ?, ?, ?, '{}')`);
  const insTurn = sqlite.prepare(
    'insert into customer_turns (id, conversation_id, agent_id, started_at, answered_at, response_ms) values (?, ?, ?, ?, ?, ?)',
  );
  const insFollowUp = sqlite.prepare(`insert into follow_ups (id, conversation_id, rule_id, silence_from,
      sequence, due_at, state, created_at, updated_at) values (?, ?, 'nudge', ?, 0, ?, ?, ?, ?)`);
  const insOutbox = sqlite.prepare(`insert into outbox (id, conversation_id, contact_id, phone_number_id,
      "to", kind, priority, payload, state, attempts, next_attempt_at, created_at, updated_at)
      values (?, ?, ?, ?, ?, 'manual', 2, '{}', 'queued', 0, ?, ?, ?)`);

  const rollups = new Map<string, Rollup>();
  /** The minute, hour and day rows of the agent and of every agent (-1), as the engine keeps them. */
  const rollup = (agent: number, at: number, f: (h: Rollup) => void) => {
    for (const a of [agent, -1]) {
      for (const [period, size] of [
        ['m', MINUTE],
        ['h', HOUR],
        ['d', DAY],
      ] as const) {
        if (period === 'm' && at < MINUTE_ROWS_FROM) continue;
        const key = `${a}:${period}:${Math.floor(at / size) * size}`;
        const h = rollups.get(key) ?? { turns: 0, answered: 0, hist: {}, silences: 0, covered: 0 };
        f(h);
        rollups.set(key, h);
      }
    }
  };
  const states = new Map<string, number>();
  const pending = new Map<string, number>();
  let messages = 0;
  let turns = 0;
  const CHUNK = 20_000;
  for (let start = 0; start < conversations; start += CHUNK) {
    sqlite.transaction(() => {
      for (let i = start; i < Math.min(conversations, start + CHUNK); i++) {
        const agent = (i % AGENTS) + 1;
        const id = `c${i}`;
        const contact = `k${i}`;
        const pnid = `pnid${agent}`;
        const opened = at + Math.floor(random() * (HISTORY_DAYS * DAY - 2 * HOUR));
        const r = random();
        let state = r < 0.85 ? 'closed' : r < 0.9 ? 'open' : r < 0.97 ? 'pending' : 'escalated';
        const waiting = state === 'open' || state === 'escalated' ? 1 : 0;
        let t = opened;
        let lastCustomer = opened;
        let lastBusiness: number | null = null;
        let answered = 0;
        const turnsHere = MESSAGES_PER_CONVERSATION / 2;
        for (let k = 0; k < turnsHere; k++) {
          const started = t;
          lastCustomer = started;
          insMessage.run(
            `m${i}_${2 * k}`,
            `w${i}_${2 * k}`,
            id,
            contact,
            pnid,
            'inbound',
            null,
            started,
            started,
          );
          const last = k === turnsHere - 1;
          const response = Math.floor(20_000 + random() * random() * 2 * HOUR);
          const isAnswered = !(last && waiting === 1);
          const answeredAt = isAnswered ? started + response : null;
          if (answeredAt !== null) {
            insMessage.run(
              `m${i}_${2 * k + 1}`,
              `w${i}_${2 * k + 1}`,
              id,
              contact,
              pnid,
              'outbound',
              'read',
              answeredAt,
              answeredAt,
            );
            lastBusiness = answeredAt;
            answered += 1;
          }
          insTurn.run(`t${i}_${k}`, id, agent, started, answeredAt, answeredAt === null ? null : response);
          const bucket = answeredAt === null ? null : String(responseBucket(response));
          rollup(agent, started, (h) => {
            h.turns += 1;
            if (bucket !== null) {
              h.answered += 1;
              h.hist[bucket] = (h.hist[bucket] ?? 0) + 1;
            }
          });
          t = (answeredAt ?? started) + Math.floor(random() * 3 * HOUR) + 60_000;
          messages += answeredAt === null ? 1 : 2;
          turns += 1;
        }
        const lastMessage = Math.max(lastCustomer, lastBusiness ?? 0);
        // As the scheduler's housekeeping leaves history: a pending conversation idle for close_after
        // was closed then. Left pending, every tick of the measured daemon would close a batch of them
        // (64k at 1M, 600 at 10k) while it answers, so the large size alone would measure the backlog.
        const idleClosed = state === 'pending' && lastMessage <= NOW - CLOSE_AFTER;
        if (idleClosed) state = 'closed';
        const closedAt = idleClosed ? lastMessage + CLOSE_AFTER : state === 'closed' ? t : null;
        insContact.run(contact, String(4_910_000_000_000 + i), `Customer ${i}`, opened, opened);
        insConv.run(
          id,
          pnid,
          contact,
          agent,
          state,
          opened,
          lastMessage,
          closedAt,
          closedAt === null ? null : 'idle',
          lastMessage,
          lastCustomer,
          lastBusiness,
          lastCustomer + DAY,
          waiting,
          turnsHere,
          answered,
        );
        if (lastBusiness !== null) {
          // The silence reaches its point (4h) and is followed up, or the customer wrote before it.
          const due = lastBusiness + 4 * HOUR;
          const sent = random() < 0.6;
          insFollowUp.run(
            `f${i}`,
            id,
            lastBusiness,
            due,
            sent ? 'sent' : 'cancelled',
            lastBusiness,
            sent ? due : lastBusiness + HOUR,
          );
          if (sent) {
            rollup(agent, due, (h) => {
              h.silences += 1;
              h.covered += 1;
            });
          }
        }
        if (i % 1000 === 0) {
          insOutbox.run(`o${i}`, id, contact, pnid, String(4_910_000_000_000 + i), NOW, NOW, NOW);
          // As store/outbox-repo.ts counts it for insights.
          const owner = outboundOwner({ agent_id: agent });
          pending.set(owner, (pending.get(owner) ?? 0) + 1);
        }
        const sk = `${agent}:${state}:${waiting}`;
        states.set(sk, (states.get(sk) ?? 0) + 1);
      }
    })();
    if ((start / CHUNK) % 10 === 0)
      log(`  ${Math.min(conversations, start + CHUNK)} / ${conversations} conversations`);
  }
  const insRollup = sqlite.prepare(
    'insert into insight_rollups (agent_id, period, start, turns, answered, response_hist, silences, covered) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insState = sqlite.prepare(
    'insert into conversation_state_counts (agent_id, queue_state, waiting, n) values (?, ?, ?, ?)',
  );
  sqlite.transaction(() => {
    for (const [key, h] of rollups) {
      const [agent, period, start] = key.split(':');
      insRollup.run(
        Number(agent),
        period,
        Number(start),
        h.turns,
        h.answered,
        JSON.stringify(h.hist),
        h.silences,
        h.covered,
      );
    }
    for (const [key, n] of states) {
      const [agent, state, waiting] = key.split(':');
      insState.run(Number(agent), state, Number(waiting), n);
    }
    const insPending = sqlite.prepare('insert into outbound_pending_counts (owner, n) values (?, ?)');
    for (const [owner, n] of pending) insPending.run(owner, n);
  })();
  sqlite.pragma('journal_mode = WAL');
  sqlite.exec('analyze');
  await close();
  return { conversations, messages, customer_turns: turns, insight_rollups: rollups.size };
}

interface Case {
  name: string;
  query: string;
}

export const CASES: Case[] = [
  { name: 'one agent, 24h', query: '?agent_uuid=agent-3' },
  { name: 'one agent, 30d, trend', query: '?agent_uuid=agent-3&window=30d&trend=1h' },
  { name: 'every agent, 24h', query: '' },
  { name: 'every agent, 30d', query: '?window=30d' },
];

/**
 * Every statement one insights request runs, with SQLite's plan for it (EXPLAIN QUERY PLAN), read on
 * the built database: a SCAN of a table that grows with history would make the endpoint slower as
 * the history grows. Returns the plans (deduplicated) and how many full scans they hold, besides the
 * scans of the count tables, whose size follows the agents and channels, not the history:
 * conversation_state_counts (a row per agent, state and waiting flag) and outbound_pending_counts (a
 * row per agent and per channel; SQLite scans its few rows rather than use the key).
 */
async function explainPlans(file: string, config: Config): Promise<{ plans: string[]; scans: number }> {
  const { sqlite, close } = openDatabase(file);
  const seen = new Map<string, unknown[]>();
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (e) => {
      if (e.level === 'query') seen.set(e.query.sql, [...e.query.parameters]);
    },
  });
  try {
    for (const c of CASES) {
      const q = new URLSearchParams(c.query);
      const agent = q.get('agent_uuid');
      const windowText = q.get('window') ?? '24h';
      await computeInsight(
        {
          db,
          now: NOW,
          config,
          health: { status: 'active', reasons: [], channels: [], responder: null },
          backlog: async () => 0,
        },
        {
          window: windowText,
          window_ms: parseDuration(windowText) as number,
          ...(agent ? { agent_uuid: agent } : {}),
          ...(q.get('trend') ? { trend: 'hour' as const } : {}),
        },
      );
    }
    const plans: string[] = [];
    let scans = 0;
    for (const [text, params] of seen) {
      const lines = (sqlite.prepare(`explain query plan ${text}`).all(...params) as { detail: string }[]).map(
        (r) => r.detail,
      );
      scans += lines.filter(
        (l) => /^SCAN /.test(l) && !/^SCAN (conversation_state_counts|outbound_pending_counts)\b/.test(l),
      ).length;
      plans.push(`${text}\n${lines.map((l) => `    ${l}`).join('\n')}`);
    }
    return { plans, scans };
  } finally {
    await db.destroy();
    await close().catch(() => undefined);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}

export function benchConfig(file: string) {
  return resolveConfig([
    {
      name: 'bench',
      document: {
        database: { path: file },
        log: { level: 'silent' },
        follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Still there?' }],
        // The bulk load left the loop busy a moment; this bench measures reads, not shedding.
        load: { api_max_in_flight: 1_000_000 },
      },
    },
  ]);
}

/** A daemon on one built database, and a token for it. */
interface Target {
  size: number;
  daemon: Awaited<ReturnType<typeof startDaemon>>;
  token: string;
}

async function openTarget(size: number, file: string): Promise<Target> {
  const { config, sources } = benchConfig(file);
  const clock = new FakeClock(NOW);
  const daemon = await startDaemon({
    config: config as Config,
    layers: sources,
    logger: pino({ level: 'silent' }),
    clock,
    listen: false,
  });
  const { token } = await createToken(
    daemon.deps.db,
    { ids: daemon.deps.ids, random: daemon.deps.random, now: clock.now() },
    { tier: 'standard', name: 'bench' },
  );
  return { size, daemon, token };
}

/** One request: wall time, and the CPU time of the process meanwhile (steadier on a shared box). */
async function once(t: Target, c: Case): Promise<{ ms: number; cpu_ms: number; body: string }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const res = await t.daemon.app.app.request(`${PATH}${c.query}`, {
    headers: { authorization: `Bearer ${t.token}` },
  });
  const body = await res.text();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (res.status !== 200) throw new Error(`${c.name} at ${t.size}: ${res.status} ${body}`);
  return { ms, cpu_ms: (used.user + used.system) / 1000, body };
}

interface Measured {
  p50: number;
  p99: number;
  cpu_p50: number;
  cpu_p99: number;
  samples: number;
  customer_turns: number;
}

/**
 * Every size's daemon in this one process, measured in alternation: each round asks every case of
 * every size once (the sizes' order flips each round), so a burst of load on a shared machine, a GC
 * or a timer lands on both sizes alike and the ratio compares like with like. The answers must stay
 * the same from the first request to the last: a daemon busy changing its data (a housekeeping
 * backlog left by the seed) would be measured along with the reads.
 */
async function measure(targets: Target[], iterations: number, log: (m: string) => void) {
  const times = new Map<string, { ms: number[]; cpu: number[]; first: string; last: string }>();
  const key = (t: Target, c: Case) => `${t.size}:${c.name}`;
  for (let i = 0; i < Math.min(20, iterations); i++) {
    for (const c of CASES) {
      for (const t of targets) {
        const r = await once(t, c);
        const k = key(t, c);
        if (!times.has(k)) times.set(k, { ms: [], cpu: [], first: r.body, last: r.body });
      }
    }
  }
  for (let i = 0; i < iterations; i++) {
    const order = i % 2 === 0 ? targets : [...targets].reverse();
    for (const c of CASES) {
      for (const t of order) {
        const r = await once(t, c);
        const m = times.get(key(t, c)) as { ms: number[]; cpu: number[]; first: string; last: string };
        m.ms.push(r.ms);
        m.cpu.push(r.cpu_ms);
        m.last = r.body;
      }
    }
  }
  const out = new Map<number, Record<string, Measured>>();
  for (const t of targets) {
    const cases: Record<string, Measured> = {};
    for (const c of CASES) {
      const m = times.get(key(t, c)) as { ms: number[]; cpu: number[]; first: string; last: string };
      if (m.first !== m.last) {
        throw new Error(`${c.name} at ${t.size}: the insight changed while measuring\n${m.first}\n${m.last}`);
      }
      const ms = [...m.ms].sort((a, b) => a - b);
      const cpu = [...m.cpu].sort((a, b) => a - b);
      cases[c.name] = {
        p50: percentile(ms, 0.5),
        p99: percentile(ms, 0.99),
        cpu_p50: percentile(cpu, 0.5),
        cpu_p99: percentile(cpu, 0.99),
        samples: ms.length,
        customer_turns: (JSON.parse(m.last) as { metrics: { customer_turns: number } }).metrics
          .customer_turns,
      };
    }
    out.set(t.size, cases);
  }
  const small = targets[0] as Target;
  for (const c of CASES) {
    for (const t of targets) {
      const m = out.get(t.size)?.[c.name] as Measured;
      const base = t === small ? undefined : out.get(small.size)?.[c.name];
      const x = (a: number, b: number | undefined) => (b === undefined ? '' : ` (x${(a / b).toFixed(2)})`);
      log(
        `  ${c.name} at ${t.size}: p50 ${m.p50.toFixed(2)} ms${x(m.p50, base?.p50)}, p99 ${m.p99.toFixed(2)} ms${x(m.p99, base?.p99)}, CPU p99 ${m.cpu_p99.toFixed(2)} ms${x(m.cpu_p99, base?.cpu_p99)}; ${m.samples} requests, ${m.customer_turns} turns`,
      );
    }
  }
  return out;
}

/** The 2× target (issue 7, issue 20): p50 and p99 at the large size within 2× of the small one. */
export const RATIO_TARGET = 2;

async function runAll(opts: {
  sizes: number[];
  iterations: number;
  log: (m: string) => void;
  tmpDir: string;
}) {
  const built: { size: number; file: string; rows: Record<string, number>; scans: number }[] = [];
  for (const size of opts.sizes) {
    const file = path.join(opts.tmpDir, `insights-${size}.db`);
    opts.log(`building ${size} conversations`);
    const loadStart = performance.now();
    const rows = await populate(file, size, opts.log);
    opts.log(`  built in ${((performance.now() - loadStart) / 1000).toFixed(1)} s: ${JSON.stringify(rows)}`);
    const { plans, scans } = await explainPlans(file, benchConfig(file).config as Config);
    opts.log(`  query plans of one request of each case (${scans} full scans):`);
    for (const p of plans) opts.log(`  ${p}`);
    built.push({ size, file, rows, scans });
  }
  const targets: Target[] = [];
  try {
    for (const b of built) targets.push(await openTarget(b.size, b.file));
    opts.log(`measuring ${built.map((b) => b.size).join(' and ')} in alternation, ${opts.iterations} rounds`);
    const measured = await measure(targets, opts.iterations, opts.log);
    return built.map((b) => ({
      size: b.size,
      rows: b.rows,
      scans: b.scans,
      cases: measured.get(b.size) as Record<string, Measured>,
    }));
  } finally {
    for (const t of targets) await t.daemon.stop();
    for (const b of built) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${b.file}${suffix}`, { force: true });
    }
  }
}

const METRICS = [
  ['p50', 'p50 latency', 'ms'],
  ['p99', 'p99 latency', 'ms'],
  ['cpu_p99', 'p99 CPU time', 'ms'],
] as const;

function toRows(results: Awaited<ReturnType<typeof runAll>>): BenchRow[] {
  const small = results[0];
  const rows: BenchRow[] = [];
  for (const r of results) {
    rows.push({
      case: `every case at ${r.size.toLocaleString('en')} conversations`,
      metric: 'full table scans in the query plans',
      value: r.scans,
      unit: 'scans',
      better: 'lower',
    });
    for (const [name, m] of Object.entries(r.cases)) {
      for (const [field, metric, unit] of METRICS) {
        const base = small && small !== r ? small.cases[name]?.[field] : undefined;
        rows.push(
          compared(
            {
              case: `${name} at ${r.size.toLocaleString('en')} conversations`,
              metric,
              value: m[field],
              unit,
              better: 'lower',
              note: `${m.samples} requests, alternating with the other size`,
            },
            base === undefined
              ? undefined
              : { case: `${name} at ${small?.size.toLocaleString('en')} conversations`, value: base },
          ),
        );
      }
    }
  }
  rows.push(...worstRatios(rows));
  return rows;
}

/**
 * The largest ratio of each latency metric over the cases, with its case and the verdict against
 * RATIO_TARGET: what the README quotes (bench/report.ts derives the same from the per-case rows).
 */
function worstRatios(rows: BenchRow[]): BenchRow[] {
  const out: BenchRow[] = [];
  for (const [, metric] of METRICS) {
    const compared = rows.filter((r) => r.metric === metric && r.ratio !== undefined);
    const worst = compared.reduce<BenchRow | undefined>(
      (w, r) => (w === undefined || (r.ratio as number) > (w.ratio as number) ? r : w),
      undefined,
    );
    if (!worst) continue;
    const ratio = worst.ratio as number;
    out.push({
      case: `worst of ${compared.length} cases, large size vs small`,
      metric: `${metric} ratio`,
      value: ratio,
      unit: '×',
      better: 'lower',
      note: `${worst.case}; target ≤ ${RATIO_TARGET}×: ${ratio <= RATIO_TARGET ? 'met' : 'missed'}`,
    });
  }
  return out;
}

export default defineBenchmark({
  name: 'insights',
  description:
    'GET runtime/insights p50/p99 at 10k and 1M conversations (10 messages each, 90 days, 10 agents), measured in alternation in one process, ratio to the small size',
  async run(ctx) {
    const sizes = ctx.quick ? [10_000, 100_000] : [10_000, 1_000_000];
    return toRows(
      await runAll({ sizes, iterations: ctx.quick ? 300 : 2000, log: ctx.log, tmpDir: ctx.tmpDir }),
    );
  },
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      iterations: { type: 'string' },
    },
  });
  const sizes = values.sizes
    ? values.sizes.split(',').map(Number)
    : values.quick
      ? [10_000, 100_000]
      : [10_000, 1_000_000];
  const iterations = Number(values.iterations ?? (values.quick ? 300 : 2000));
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'nwa-bench-insights-'));
  const started = new Date();
  try {
    const log = (m: string) => process.stderr.write(`${m}\n`);
    const results = await runAll({ sizes, iterations, log, tmpDir });
    const rows = toRows(results);
    const file = writeResults({
      name: 'insights',
      mode: values.quick ? 'quick' : 'full',
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine: describeMachine(),
      benchmarks: [
        {
          name: 'insights',
          description: 'see rows',
          seconds: (Date.now() - started.getTime()) / 1000,
          error: null,
        },
      ],
      rows,
    });
    for (const r of rows) {
      process.stdout.write(
        `${r.case}  ${r.metric}  ${r.value.toFixed(2)} ${r.unit}${r.ratio ? `  (x${r.ratio.toFixed(2)})` : ''}\n`,
      );
    }
    process.stdout.write(`written to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
