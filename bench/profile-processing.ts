// `node --import tsx bench/profile-processing.ts [--deliveries N] [--customers N] [--profile DIR]
//  [--statements] [--database-url postgres://…]`:
// the inbox processor alone, in this process, on plain text messages that land on an existing
// conversation (issue 20's case): a warm-up round creates the customers' contacts and conversations,
// then N new deliveries are stored as pending inbox rows and drained. Prints the CPU time of the drain
// per delivery (process.cpuUsage, so neither ingress nor start-up is counted) and, with --profile, the
// self time by function of a V8 CPU profile taken over the drain only. With --database-url the store is
// a scratch database created on that PostgreSQL server (dropped afterwards); the CPU is then this
// process's only (the server's is not counted) and the wall rate shows the round trips. --statements
// counts PostgreSQL's queries (round trips, timed by wall clock) instead of SQLite's statements.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { resolveConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { createInboxProcessor } from '../src/inbox/processor.js';
import { systemClock } from '../src/lib/clock.js';
import { createIdSource } from '../src/lib/ids.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { openDatabase, openPostgres } from '../src/store/db.js';
import { inboxRepo } from '../src/store/inbox-repo.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { toMetaJson } from '../src/webhook/meta-json.js';
import { summarise } from './profile.js';

const { values } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '5000' },
    customers: { type: 'string', default: '1000' },
    profile: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    statements: { type: 'boolean', default: false },
    'database-url': { type: 'string' },
  },
});
const deliveries = Number(values.deliveries);
const customers = Number(values.customers);

// --statements: every SQL statement the drain runs, with its count and time per delivery.
const statementStats = new Map<string, { n: number; us: number }>();
let counting = false;
if (values.statements) {
  const prepare = SQLite.prototype.prepare;
  SQLite.prototype.prepare = function (this: SQLite.Database, source: string) {
    const stmt = prepare.call(this, source) as SQLite.Statement;
    for (const method of ['run', 'all', 'get'] as const) {
      const original = stmt[method].bind(stmt) as (...args: unknown[]) => unknown;
      (stmt as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        if (!counting) return original(...args);
        const t = process.cpuUsage();
        try {
          return original(...args);
        } finally {
          const entry = statementStats.get(source) ?? { n: 0, us: 0 };
          entry.n += 1;
          const d = process.cpuUsage(t);
          entry.us += d.user + d.system;
          statementStats.set(source, entry);
        }
      };
    }
    return stmt;
  } as typeof prepare;
}

// On PostgreSQL, --statements counts the queries sent (each one round trip); the time is the wall
// time to its answer, not CPU.
if (values.statements && values['database-url']) {
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
    if (!counting || text === undefined || typeof args[args.length - 1] === 'function')
      return query.apply(this, args);
    const t = performance.now();
    const entry = statementStats.get(text) ?? { n: 0, us: 0 };
    entry.n += 1;
    statementStats.set(text, entry);
    return (query.apply(this, args) as Promise<unknown>).finally(() => {
      entry.us += (performance.now() - t) * 1000;
    });
  } as typeof pg.Client.prototype.query;
}

const dir = mkdtempSync(path.join(tmpdir(), 'nwa-profile-processing-'));
const { config } = resolveConfig([
  { name: 'bench', document: { database: { path: path.join(dir, 'p.db') }, log: { level: 'info' } } },
]);
// PostgreSQL: a scratch database beside the one the URL names.
const serverUrl = values['database-url'];
let scratchUrl: string | undefined;
const scratchName = `nwa_profile_${process.pid}_${Date.now()}`;
async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
if (serverUrl) {
  await admin(`create database ${scratchName}`);
  const url = new URL(serverUrl);
  url.pathname = `/${scratchName}`;
  scratchUrl = url.toString();
}
const opened = scratchUrl ? openPostgres(scratchUrl) : openDatabase(config.database.path);
await migrateToLatest(opened.db);
const ids = createIdSource(systemClock);
// Info logs go somewhere, as in the daemon (a discarded pipe in the ingress benchmark).
const logger = createLogger({
  level: 'info',
  format: 'json',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});
const processor = createInboxProcessor(
  {
    db: opened.db,
    clock: systemClock,
    ids,
    logger,
    metrics: createMetrics(),
    owner: 'profile',
    config: () => config as Config,
    // Ingress that never receives: the processor runs its idle-sized slices, as after a burst.
    ingress: { idle: () => Promise.resolve(), arrivedSince: () => false },
  },
  {},
);
processor.start();

let seq = 0;
const firstTimestamp = Math.floor(Date.now() / 1000) - 3600;
async function store(count: number): Promise<void> {
  const rows = [];
  for (let i = 0; i < count; i++, seq++) {
    const customer = String(4917000000000 + (seq % customers));
    const body = toMetaJson({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                contacts: [{ profile: { name: `Kundin ${seq % customers} Müller` }, wa_id: customer }],
                messages: [
                  {
                    from: customer,
                    id: `wamid.${Buffer.from(`profile-${seq}-${customer}`).toString('base64')}`,
                    timestamp: String(firstTimestamp + (seq % 3600)),
                    text: { body: `Hallo, ist meine Bestellung #${100000 + seq} schon unterwegs?` },
                    type: 'text',
                  },
                ],
              },
              field: 'messages',
            },
          ],
        },
      ],
    });
    const now = Date.now();
    rows.push({
      id: ids.next(),
      received_at: now,
      body,
      delivery_hash: createHash('sha256').update(body).digest('hex'),
      state: 'pending' as const,
      attempts: 0,
      next_attempt_at: now,
      last_error: null,
      processed_at: null,
    });
  }
  for (let i = 0; i < rows.length; i += 200) await inboxRepo.insertMany(opened.db, rows.slice(i, i + 200));
}

// Warm-up: every customer gets a contact and an open conversation.
await store(customers);
await processor.drain();

const session = values.profile ? new Session() : undefined;
for (let round = 0; round < Number(values.rounds); round++) {
  await store(deliveries);
  if (session && round === Number(values.rounds) - 1) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  counting = true;
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await processor.drain();
  const used = process.cpuUsage(cpu);
  counting = false;
  const seconds = (performance.now() - wall) / 1000;
  process.stdout.write(
    `${deliveries} deliveries on existing conversations: ${Math.round((used.user + used.system) / deliveries)} µs CPU per delivery (user ${Math.round(used.user / deliveries)}, system ${Math.round(used.system / deliveries)}), ${Math.round(deliveries / seconds)} per second wall\n`,
  );
}
if (values.statements) {
  const list = [...statementStats].sort((a, b) => b[1].us - a[1].us);
  const per = (x: number) => (x / deliveries / Number(values.rounds)).toFixed(2);
  process.stdout.write('\nstatements per delivery (count, µs):\n');
  for (const [source, e] of list)
    process.stdout.write(`${per(e.n).padStart(6)} ${per(e.us).padStart(8)}  ${source.slice(0, 220)}\n`);
}
if (session && values.profile) {
  const { profile } = await session.post('Profiler.stop');
  const file = path.join(values.profile, `processing-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stdout.write(`${file}\n${summarise(file, 40)}`);
}
await processor.stop(Date.now() + 1000);
await opened.close();
if (serverUrl) await admin(`drop database if exists ${scratchName} with (force)`);
if (process.env.KEEP_DB) process.stdout.write(`kept ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
