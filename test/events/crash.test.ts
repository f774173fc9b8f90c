// SPEC §11, §9: event deliveries survive kill -9. The real daemon process delivers its event log to a
// real receiver (signatures verified with `standardwebhooks`) that answers slowly, so deliveries are
// in flight when the daemon is killed with SIGKILL; after a restart on the same database every event
// reaches the receiver at least once, under the same `webhook-id` (a receiver dedupes on it), each
// conversation's events in sequence order, and the duplicates are at most the deliveries that were in
// flight (the subscription's concurrency).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { type DaemonProcess, killAll, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { deliveryOf, messagesChange } from '../webhook/deliveries.js';

const SECRET = 'events_crash_secret_0123456789';
const ROOT_TOKEN = 'root_token_for_the_events_crash_0123';
const BASE = '/api/extensions/native-whatsapp/management/webhooks';
const CONCURRENCY = 4;
const CUSTOMERS = 6;
const MESSAGES_EACH = 8;

let dir: string | undefined;
let rx: WebhookReceiver | undefined;
const running: DaemonProcess[] = [];

afterEach(async () => {
  await killAll(running);
  await rx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function post(d: DaemonProcess, wa: string, wamid: string, text: string): Promise<number> {
  const body = Buffer.from(
    toMetaJson(
      deliveryOf([
        messagesChange(
          [{ wa_id: wa }],
          [{ from: wa, id: wamid, timestamp: Math.floor(Date.now() / 1000), body: text }],
        ),
      ]),
    ),
  );
  const res = await fetch(`${d.url}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

describe('kill -9 while event deliveries are in flight', () => {
  it('after a restart every event arrives at least once, same webhook-id, in order per conversation', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nwa-events-crash-'));
    rx = await startWebhookReceiver();
    const receiver = rx;
    // Slow answers: a delivery takes 150 ms, so the daemon always has some waiting on the receiver.
    receiver.answer = () => ({ status: 204, delayMs: 150 });
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ events: { delivery: { concurrency: CONCURRENCY } } }));
    const env = {
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      CONFIG_PATH: configFile,
      WHATSAPP_APP_SECRET: SECRET,
      API_ROOT_TOKEN: ROOT_TOKEN,
      LOG_LEVEL: 'warn',
    };
    const first = await startDaemonProcess(env);
    running.push(first);
    const created = await fetch(`${first.url}${BASE}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, types: ['*'] }),
    });
    expect(created.status).toBe(201);
    receiver.secrets.push(((await created.json()) as { secret: string }).secret);

    // Each customer writes in turn: every conversation has a run of events to keep in order.
    for (let m = 0; m < MESSAGES_EACH; m++) {
      for (let c = 0; c < CUSTOMERS; c++) {
        const wa = `4915200000${String(c).padStart(3, '0')}`;
        expect(await post(first, wa, `wamid.EVCRASH${c}x${m}`, `message ${m}`)).toBe(200);
      }
    }

    // Killed once some events were acknowledged and others are waiting on the receiver's answer.
    await waitFor(() => receiver.acknowledged.length >= 10 && receiver.pending() >= 2, 30_000, 5);
    const inFlightAtKill = receiver.pending();
    first.child.kill('SIGKILL');
    await first.exited;
    const arrivedBeforeKill = receiver.requests.filter((r) => r.envelope.type !== 'ping').length;

    const second = await startDaemonProcess(env);
    running.push(second);
    const events = () => {
      const db = new SQLite(env.DATABASE_PATH, { readonly: true });
      try {
        return db
          .prepare('select seq, id, conversation_id from domain_events where internal = 0 order by seq')
          .all() as { seq: number; id: string; conversation_id: string | null }[];
      } finally {
        db.close();
      }
    };
    const undelivered = () => {
      const db = new SQLite(env.DATABASE_PATH, { readonly: true });
      try {
        return (
          db.prepare("select count(*) as n from event_deliveries where state != 'delivered'").get() as {
            n: number;
          }
        ).n;
      } finally {
        db.close();
      }
    };
    // Every message processed and every delivery settled.
    await waitFor(() => {
      const db = new SQLite(env.DATABASE_PATH, { readonly: true });
      try {
        const n = (
          db.prepare("select count(*) as n from messages where direction = 'inbound'").get() as { n: number }
        ).n;
        return n === CUSTOMERS * MESSAGES_EACH && undelivered() === 0 && receiver.pending() === 0;
      } finally {
        db.close();
      }
    }, 60_000);

    const log = events();
    const seqOf = new Map(log.map((e) => [e.id, e.seq]));
    const arrivals = receiver.requests.filter((r) => r.envelope.type !== 'ping');
    // Signed as Standard Webhooks says, and the webhook-id is the event's id on every attempt.
    expect(arrivals.every((r) => r.verified === true)).toBe(true);
    expect(arrivals.every((r) => r.id === r.envelope.id)).toBe(true);

    // At least once: every public event of the log reached the receiver.
    const times = new Map<string, number>();
    for (const r of arrivals) times.set(r.id, (times.get(r.id) ?? 0) + 1);
    const missing = log.filter((e) => !times.has(e.id));
    expect(missing).toEqual([]);
    expect([...times.keys()].every((id) => seqOf.has(id))).toBe(true);
    const duplicates = [...times.values()].reduce((n, k) => n + (k - 1), 0);

    // Per conversation, arrivals never go back in sequence (a redelivery repeats the last one only).
    const lastSeq = new Map<string, number>();
    const outOfOrder: string[] = [];
    for (const r of arrivals) {
      const key = r.envelope.conversation_id;
      if (key === null) continue;
      const seq = seqOf.get(r.id) as number;
      if (seq < (lastSeq.get(key) ?? 0)) outOfOrder.push(`${key}: ${seq} after ${lastSeq.get(key)}`);
      lastSeq.set(key, Math.max(seq, lastSeq.get(key) ?? 0));
    }
    expect(outOfOrder).toEqual([]);

    // What the receiver held unanswered at the kill went out again; nothing beyond what was claimed.
    expect(duplicates).toBeGreaterThanOrEqual(inFlightAtKill);
    expect(duplicates).toBeLessThanOrEqual(CONCURRENCY);
    console.log(
      `[events crash] ${log.length} events, ${arrivals.length} arrivals (${arrivedBeforeKill} before the kill), ` +
        `${inFlightAtKill} in flight at the kill, ${duplicates} duplicates (same webhook-id), 0 missing`,
    );
    expect(second.stderr() + second.stdout()).toContain('events.deliveries_resumed');
  }, 120_000);
});
