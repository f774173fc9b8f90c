// SPEC §9: a webhook that got 200 is never lost, even on kill -9 right after, and each message has
// its effects once. A few hundred signed deliveries are posted concurrently to the real daemon
// process, which is killed with SIGKILL the moment the last 200 arrives, then restarted on the same
// database; every message must be there exactly once (including those posted twice).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { type DaemonProcess, killAll, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';
import { deliveryOf, messagesChange, statusChange } from './deliveries.js';

const SECRET = 'crash_test_secret_0123456789';
const DELIVERIES = 300;
let dir: string;
const running: DaemonProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-crash-'));
});
afterEach(async () => {
  await killAll(running);
  rmSync(dir, { recursive: true, force: true });
});

function query<T>(file: string, sql: string): T[] {
  const db = new SQLite(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('kill -9 right after the last 200', () => {
  it('loses nothing and applies every message exactly once after a restart', async () => {
    const file = path.join(dir, 'db.sqlite');
    const env = { DATABASE_PATH: file, WHATSAPP_APP_SECRET: SECRET, LOG_LEVEL: 'warn' };
    const first = await startDaemonProcess(env);
    running.push(first);

    // 300 deliveries from 60 customers, 1–3 messages each (with non-ASCII text), every tenth one
    // also carrying a status; the last 20 bodies are posted a second time as Meta's duplicates.
    const expected = new Set<string>();
    const bodies: Buffer[] = [];
    // Message times just before now: the daemon runs on the real clock, and SPEC §9a makes a timestamp
    // more than 30 days from the receipt an item error.
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    for (let i = 0; i < DELIVERIES; i++) {
      const wa = `49170${String(10_000 + (i % 60)).padStart(8, '0')}`;
      const count = 1 + (i % 3);
      const messages = Array.from({ length: count }, (_, k) => {
        const id = `wamid.CRASH${String(i).padStart(4, '0')}_${k}`;
        expected.add(id);
        return {
          from: wa,
          id,
          timestamp: t0 + i * 10 + k,
          body: `Nachricht ${i}.${k} — grüße 👋 https://x.example/${i}`,
        };
      });
      const changes: Record<string, unknown>[] = [
        messagesChange([{ wa_id: wa, name: `Kunde ${i % 60}` }], messages),
      ];
      if (i % 10 === 0)
        changes.push(statusChange([{ id: `wamid.OUT${i}`, status: 'delivered', timestamp: t0 + i }]));
      bodies.push(Buffer.from(toMetaJson(deliveryOf(changes)), 'utf8'));
    }
    const posts = [...bodies, ...bodies.slice(-20)];

    // Like Meta: a delivery shed with 503 + Retry-After (load shedding on a busy box) is sent again
    // until it gets its 200; only 200s are promises. Up to 500 tries (about 30 s): 50 ran out at load
    // average 20, where the daemon's loop stays late for seconds and sheds all the while.
    const post = async (body: Buffer): Promise<number> => {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${first.url}/webhooks/whatsapp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 503 || attempt >= 500) return res.status;
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
      }
    };
    let answered = 0;
    const statuses = await Promise.all(
      posts.map((b) =>
        post(b).then((status) => {
          answered += 1;
          // The instant the last answer arrives: no graceful anything.
          if (answered === posts.length) first.child.kill('SIGKILL');
          return status;
        }),
      ),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await first.exited).toBe('SIGKILL');

    const atCrash = query<{ state: string; n: number }>(
      file,
      'select state, count(*) n from inbox group by state',
    );
    const stored = atCrash.reduce((sum, r) => sum + r.n, 0);
    expect(stored).toBe(posts.length);

    const second = await startDaemonProcess(env);
    running.push(second);
    await waitFor(
      () => query<{ n: number }>(file, "select count(*) n from inbox where state = 'pending'")[0]?.n === 0,
      120_000,
    );

    const rows = query<{ wamid: string; n: number }>(
      file,
      'select wamid, count(*) n from messages group by wamid',
    );
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.wamid))).toEqual(expected);
    expect(query<{ state: string }>(file, "select state from inbox where state <> 'processed'")).toEqual([]);
    // Conversation counters saw each message once: 60 customers, each message unanswered once.
    const convs = query<{ n: number; unanswered: number }>(
      file,
      'select count(*) n, sum(unanswered_count) unanswered from conversations',
    )[0];
    expect(convs).toEqual({ n: 60, unanswered: expected.size });
    expect(query<{ n: number }>(file, 'select count(*) n from status_events')[0]?.n).toBe(DELIVERIES / 10);
    // For the record: how much was left to do when the process died.
    console.info(`crash test: inbox at kill -9 ${JSON.stringify(atCrash)}`);
  }, 240_000);
});
