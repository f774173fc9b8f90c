// SPEC §8 /readyz, §9 with the database file made read-only under the running daemon (chmod 0444 while
// customers keep writing): /readyz fails naming the reason, webhooks get 503 + Retry-After instead of a
// 200, nothing is written or sent meanwhile; once writable again everything resumes by itself, and
// after a kill -9 and a restart every delivery that got 200 is there exactly once.
import { chmodSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import {
  createFaultWorld,
  type FaultWorld,
  faultSeed,
  messageSends,
  reconcileAcked,
  seededRandom,
  sleep,
  textDeliveryBody,
} from './harness.js';
import { writeScenarioTotals } from './totals.js';

const READ_ONLY_S = Number(process.env.FAULTS_READ_ONLY_S ?? 5);
const CUSTOMERS = 30;

let world: FaultWorld | undefined;
afterAll(async () => {
  if (world) chmodSync(world.dbFile, 0o644);
  await world?.close();
});

describe('the database file made read-only under the daemon', () => {
  it('/readyz fails and webhooks get 503 meanwhile; it recovers by itself and loses nothing it acknowledged', async () => {
    const started = Date.now();
    const seed = faultSeed('read-only-store');
    const rnd = seededRandom(seed);
    const w = await createFaultWorld({
      name: 'readonly',
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'hello', keywords: ['hello'], reply: 'Hi! How can we help?' }] },
        escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
        scheduler: { tick_every: '1s' },
      },
    });
    world = w;
    await w.start();
    await w.setupAgent();

    const acked = new Set<string>();
    const ackedWamids = new Set<string>();
    const answers = new Map<number, number>();
    let retryAfter: string | null = null;
    let seq = 0;
    const stop = { done: false };
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => `4917500${String(i).padStart(6, '0')}`);
    let ackedWhileReadOnly = 0;
    // Acknowledgements counted while the file is read-only and the daemon has noticed (and what was
    // in flight at that moment has settled).
    let counting = false;

    async function load(): Promise<void> {
      while (!stop.done) {
        const wa = customers[Math.floor(rnd() * customers.length)] as string;
        const id = `wamid.READONLY${String(++seq).padStart(6, '0')}`;
        const body = textDeliveryBody(wa, id, `hello ${seq}`);
        const res = await w.postWebhook(body);
        answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        if (res.status === 200) {
          acked.add(String(res.body.inbox_id));
          ackedWamids.add(id);
          if (counting) ackedWhileReadOnly++;
        } else if (res.status === 503) retryAfter = res.headers.get('retry-after');
        await sleep(5 + rnd() * 20);
      }
    }

    const loops = [load(), load()];
    await waitFor(() => messageSends(w.graph).length >= 10, 30_000, 20);

    // Read-only.
    chmodSync(w.dbFile, 0o444);
    const chmodAt = Date.now();
    let readyz: { status: number; body: { status?: string; checks?: { store?: string } } } = {
      status: 0,
      body: {},
    };
    await waitFor(async () => {
      const res = await fetch(`${w.daemon().url}/readyz`);
      readyz = { status: res.status, body: (await res.json()) as typeof readyz.body };
      return res.status === 503;
    }, 10_000);
    const detectedMs = Date.now() - chmodAt;
    // What was in flight at the moment it turned read-only settles first.
    await sleep(500);
    counting = true;
    const inboxAtStart = w.query<{ n: number }>('select count(*) as n from inbox')[0]?.n ?? 0;
    const sendsAtStart = messageSends(w.graph).length;
    await sleep(READ_ONLY_S * 1000);
    const inboxWritten =
      (w.query<{ n: number }>('select count(*) as n from inbox')[0]?.n ?? 0) - inboxAtStart;
    const sendsMeanwhile = messageSends(w.graph).length - sendsAtStart;
    const refusedWhileReadOnly = answers.get(503) ?? 0;
    counting = false;

    // Writable again: everything resumes by itself.
    chmodSync(w.dbFile, 0o644);
    const restoredAt = Date.now();
    await waitFor(async () => (await fetch(`${w.daemon().url}/readyz`)).status === 200, 10_000);
    const recoveredMs = Date.now() - restoredAt;
    const ackedBefore = acked.size;
    await waitFor(() => acked.size > ackedBefore + 10, 30_000, 20);
    stop.done = true;
    await Promise.all(loops);
    const drained = () => {
      const [row] = w.query<Record<string, number>>(
        `select
           (select count(*) from inbox where state = 'pending') as inbox,
           (select count(*) from responder_jobs where state = 'pending') as jobs,
           (select count(*) from outbox where state in ('queued', 'sending')) as outbox`,
      );
      return row !== undefined && Object.values(row).every((n) => n === 0);
    };
    await waitFor(drained, 60_000, 50);

    // A restart on the same file (what a daemon that kept writing to a read-only file would fail) and
    // every acknowledged delivery is there once.
    await w.kill();
    await w.start();
    await waitFor(drained, 60_000, 50);
    const { lost, notOnce } = reconcileAcked(w, acked, ackedWamids);

    writeScenarioTotals('read-only-store', {
      seed,
      read_only_s: READ_ONLY_S,
      readyz_detected_ms: detectedMs,
      readyz_reason: readyz.body.checks?.store ?? null,
      webhooks_503_while_read_only: refusedWhileReadOnly,
      retry_after: retryAfter,
      webhooks_acked_while_read_only: ackedWhileReadOnly,
      inbox_rows_written_while_read_only: inboxWritten,
      sends_while_read_only: sendsMeanwhile,
      readyz_recovered_ms: recoveredMs,
      deliveries_acked: acked.size,
      deliveries_lost: lost.length,
      inbound_messages_present_once: ackedWamids.size - notOnce.length,
      duration_s: Math.round((Date.now() - started) / 1000),
    });

    expect(readyz.status).toBe(503);
    expect(readyz.body.status).toBe('not_ready');
    expect(readyz.body.checks?.store).toMatch(/read-only \(mode 0444\)/);
    expect(refusedWhileReadOnly).toBeGreaterThan(0);
    expect(retryAfter).not.toBeNull();
    expect(ackedWhileReadOnly).toBe(0);
    expect(inboxWritten).toBe(0);
    expect(sendsMeanwhile).toBe(0);
    expect(lost).toEqual([]);
    expect(notOnce).toEqual([]);
  });
});
