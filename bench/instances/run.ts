// Several instances (SPEC §10): webhook ingress and processing throughput of one daemon on SQLite, one on
// PostgreSQL and three on one PostgreSQL behind a round-robin TCP proxy (test/faults/round-robin-proxy.ts),
// measured in the same run. Ingress: signed single-message deliveries from bench/ingress/load.ts (closed
// loop, 48 connections) answered 200 per second. Processing: deliveries applied per second, from the
// start of the load until the inbox holds nothing pending. The goal is ×2.5 ingress for three instances;
// on a 2-core box the three daemons, PostgreSQL, the proxy and the load generator share two cores, so
// the ratio says what a third process costs there more than what a third machine would bring.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startRoundRobinProxy } from '../../test/faults/round-robin-proxy.js';
import { createPostgresTestDatabase, type PostgresTestDatabase } from '../../test/helpers/engines.js';
import { type BenchRow, compared, defineBenchmark } from '../lib/benchmark.js';
import { round } from '../lib/round.js';
import { freePort, type ServerProcess, startServer } from '../lib/server-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'bench_app_secret_0123456789abcdef';
const CONNECTIONS = 48;

interface LoadResult {
  ok: number;
  requests: number;
  seconds: number;
  deliveries_per_second: number;
  latency_ms: { p50: number; p99: number };
}

function runLoad(url: string, duration: number, warmup: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'bench/ingress/load.ts'),
        url,
        SECRET,
        'closed',
        String(CONNECTIONS),
        '0',
        String(duration),
        String(warmup),
        'instances',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator failed (${code})`));
      resolve(JSON.parse(out.trim()) as LoadResult);
    });
  });
}

interface Setup {
  name: string;
  engine: 'sqlite' | 'postgres';
  instances: number;
}

interface Measured {
  ingress: number;
  p99: number;
  processing: number;
  processed: number;
}

async function measure(
  setup: Setup,
  ctx: { tmpDir: string; quick: boolean; log(m: string): void },
): Promise<Measured> {
  const dir = path.join(ctx.tmpDir, setup.name.replace(/\W+/g, '-'));
  const configFile = path.join(ctx.tmpDir, 'config.json');
  // Processing only: no replies, no sends, so both engines do the same inbox work.
  writeFileSync(
    configFile,
    JSON.stringify({ runtime: { automation_mode: 'assisted' }, outbound: { mark_read: false } }),
  );
  let database: PostgresTestDatabase | undefined;
  if (setup.engine === 'postgres') database = await createPostgresTestDatabase();
  const servers: ServerProcess[] = [];
  const stopAll = async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < setup.instances; i++) {
      const port = await freePort();
      ports.push(port);
      servers.push(
        await startServer({
          name: `${setup.name} ${i + 1}`,
          command: process.execPath,
          args: [path.join(ROOT, 'dist/main.js'), 'serve'],
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            PORT: String(port),
            DATABASE_PATH: path.join(dir, 'db.sqlite'),
            ...(database ? { DATABASE_URL: database.url, INSTANCE_ID: `bench-${i + 1}` } : {}),
            CONFIG_PATH: configFile,
            WHATSAPP_APP_SECRET: SECRET,
            WHATSAPP_ACCESS_TOKEN: 'EAAbench_token_0123456789abcdef',
            WHATSAPP_API_BASE_URL: 'http://127.0.0.1:9',
            API_ROOT_TOKEN: 'bench_root_token_0123456789',
            LOG_LEVEL: 'warn',
            LOG_FORMAT: 'json',
          },
          readyPath: '/readyz',
          readyStatus: 200,
          port,
          logFile: path.join(ctx.tmpDir, `${setup.name.replace(/\W+/g, '-')}-${i + 1}.log`),
          timeoutMs: 60_000,
        }),
      );
    }
    const proxy = setup.instances > 1 ? await startRoundRobinProxy(ports) : undefined;
    const url = proxy?.url ?? `http://127.0.0.1:${ports[0]}`;
    const pending = await pendingCounter(setup, dir, database);
    try {
      const started = Date.now();
      const load = await runLoad(url, ctx.quick ? 3 : 10, ctx.quick ? 1 : 2);
      // Processing: every accepted delivery applied (warm-up ones included: they are rows too).
      const deadline = Date.now() + 180_000;
      while ((await pending.count()) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const seconds = (Date.now() - started) / 1000;
      const processed = await pending.processed();
      ctx.log(
        `${setup.name}: ingress ${load.deliveries_per_second}/s (p99 ${load.latency_ms.p99} ms), ${processed} processed in ${round(seconds)} s`,
      );
      return {
        ingress: load.deliveries_per_second,
        p99: load.latency_ms.p99,
        processing: processed / seconds,
        processed,
      };
    } finally {
      await pending.close();
      await proxy?.close();
    }
  } finally {
    await stopAll();
    await database?.drop();
  }
}

/** Reads the inbox of the setup's database: rows still pending, rows processed. */
async function pendingCounter(setup: Setup, dir: string, database: PostgresTestDatabase | undefined) {
  if (setup.engine === 'postgres' && database) {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const one = async (sql: string) => Number((await pool.query(sql)).rows[0]?.n ?? 0);
    return {
      count: () => one("select count(*) as n from inbox where state = 'pending'"),
      processed: () => one("select count(*) as n from inbox where state = 'processed'"),
      close: () => pool.end(),
    };
  }
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(path.join(dir, 'db.sqlite'), { readonly: true });
  const one = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
  return {
    count: async () => one("select count(*) as n from inbox where state = 'pending'"),
    processed: async () => one("select count(*) as n from inbox where state = 'processed'"),
    close: async () => db.close(),
  };
}

export default defineBenchmark({
  name: 'instances',
  description:
    'Ingress and processing: one daemon on SQLite vs one on PostgreSQL vs three on one PostgreSQL behind a round-robin proxy (SPEC §10), same run',
  async run(ctx) {
    if (!process.env.TEST_DATABASE_URL) {
      ctx.log('instances: TEST_DATABASE_URL is not set (postgres://postgres@127.0.0.1:5432/test): skipped');
      return [];
    }
    const sqlite1 = await measure({ name: 'SQLite, 1 instance', engine: 'sqlite', instances: 1 }, ctx);
    const pg1 = await measure({ name: 'PostgreSQL, 1 instance', engine: 'postgres', instances: 1 }, ctx);
    const pg3 = await measure({ name: 'PostgreSQL, 3 instances', engine: 'postgres', instances: 3 }, ctx);
    const rows: BenchRow[] = [];
    const ingress = (c: string, m: Measured) => ({
      case: c,
      metric: 'ingress',
      value: round(m.ingress),
      unit: 'deliveries/s',
      better: 'higher' as const,
      note: `p99 ${m.p99} ms, ${CONNECTIONS} connections`,
    });
    const processing = (c: string, m: Measured) => ({
      case: c,
      metric: 'processing',
      value: round(m.processing),
      unit: 'deliveries/s',
      better: 'higher' as const,
      note: `${m.processed} deliveries applied`,
    });
    rows.push(ingress('SQLite, 1 instance', sqlite1));
    rows.push(
      compared(ingress('PostgreSQL, 1 instance', pg1), {
        case: 'SQLite, 1 instance',
        value: sqlite1.ingress,
      }),
    );
    rows.push(
      compared(
        {
          ...ingress('PostgreSQL, 3 instances', pg3),
          note: `goal ×2.5 of 1 instance; ${ingress('', pg3).note}`,
        },
        { case: 'PostgreSQL, 1 instance', value: pg1.ingress },
      ),
    );
    rows.push(processing('SQLite, 1 instance', sqlite1));
    rows.push(
      compared(processing('PostgreSQL, 1 instance', pg1), {
        case: 'SQLite, 1 instance',
        value: sqlite1.processing,
      }),
    );
    rows.push(
      compared(processing('PostgreSQL, 3 instances', pg3), {
        case: 'PostgreSQL, 1 instance',
        value: pg1.processing,
      }),
    );
    return rows;
  },
});
