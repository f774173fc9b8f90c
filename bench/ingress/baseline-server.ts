// The floor any durable webhook handler must pay, measured beside the daemon: a minimal Hono server
// that verifies X-Hub-Signature-256 over the raw body (same HMAC and constant-time compare) and
// inserts one row per request into SQLite opened with the daemon's own pragmas (WAL,
// synchronous=FULL), answering 200 after that row's commit. No logging, metrics, parsing or batching.
// Env: PORT, DATABASE_PATH, APP_SECRET. Prints "ready <port>" when listening.
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
  insert.run(
    ids.next(),
    systemClock.now(),
    body.toString('utf8'),
    createHash('sha256').update(body).digest('hex'),
  );
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
  handle.sqlite.close();
  process.exit(0);
});
