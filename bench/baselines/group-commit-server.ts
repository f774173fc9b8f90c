// Baseline, the group-commit floor: the durable floor's Hono server (same X-Hub-Signature-256 check in
// constant time, same SQLite pragmas: WAL, synchronous=FULL), but every insert arriving in one turn of
// the event loop shares one transaction, committed on the next turn (setImmediate), and each request is
// answered after that commit. It is what durable ingress costs when commits are grouped as the daemon
// groups them, with nothing else (no logging, metrics, limits or processing): the floor the daemon's
// group-committed inbox must be compared with. Env: PORT, DATABASE_PATH, APP_SECRET.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { systemClock } from '../../src/lib/clock.js';
import { createIdSource } from '../../src/lib/ids.js';
import { openDatabase } from '../../src/store/db.js';

const secret = process.env.APP_SECRET ?? '';
const handle = openDatabase(process.env.DATABASE_PATH ?? ':memory:');
handle.sqlite.exec(
  'create table if not exists inbox (id text primary key, received_at integer not null, body text not null, delivery_hash text not null)',
);
const insert = handle.sqlite.prepare(
  'insert into inbox (id, received_at, body, delivery_hash) values (?, ?, ?, ?)',
);
const ids = createIdSource(systemClock);

type Row = [string, number, string, string];
let batch: { row: Row; done: () => void }[] = [];
const commitBatch = handle.sqlite.transaction((rows: Row[]) => {
  for (const r of rows) insert.run(...r);
});

function flush(): void {
  const taken = batch;
  batch = [];
  commitBatch(taken.map((b) => b.row));
  for (const b of taken) b.done();
}

function append(row: Row): Promise<void> {
  return new Promise((resolve) => {
    if (batch.length === 0) setImmediate(flush);
    batch.push({ row, done: resolve });
  });
}

const app = new Hono();
app.post('/webhooks/whatsapp', async (c) => {
  const header = c.req.header('x-hub-signature-256') ?? '';
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header);
  const body = Buffer.from(await c.req.arrayBuffer());
  if (
    !m ||
    !timingSafeEqual(Buffer.from(m[1] as string, 'hex'), createHmac('sha256', secret).update(body).digest())
  ) {
    return c.json({ error: 'invalid_signature' }, 401);
  }
  await append([
    ids.next(),
    systemClock.now(),
    body.toString('utf8'),
    createHash('sha256').update(body).digest('hex'),
  ]);
  return c.json({ ok: true });
});

const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
  (info: AddressInfo) => {
    process.stdout.write(`ready ${info.port}\n`);
  },
);
process.on('SIGTERM', () => {
  server.close();
  if (batch.length > 0) flush();
  handle.sqlite.close();
  process.exit(0);
});
