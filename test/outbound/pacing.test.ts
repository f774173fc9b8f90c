// The sender's paced queue against the fake Cloud API (real HTTP): every queued send arrives once,
// replies go before follow-ups and campaign sends, and a stop parks what has not started (rows back to
// queued, no lease) while in-flight sends finish.

import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../inbox/db-view.js';
import { type Bench, enqueue, enqueueMany, startBench } from './harness.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const recipient = (i: number) => ({ wa_id: `4915200${String(i).padStart(6, '0')}` });

describe('rate cap', () => {
  // The cap itself is asserted on a fake clock (pacing-queue.test.ts: never more than the rate in any
  // second, the window widened by its slack) and measured at a real API in bench/outbound (the most
  // requests in any one-second window at 80/s). Timed windows here failed on a loaded machine.
  it('120 queued messages at 40/s all reach the API, each once, through the paced queue', async () => {
    b = await startBench({ config: { outbound: { rate_per_second: 40, concurrency: 8 } } });
    for (let i = 0; i < 120; i++) await enqueue(b.t, { to: recipient(i) });
    await b.t.deps.outbound.sender.drain();
    const to = b.graph.requests.map((r) => (r.body as { to: string }).to);
    expect(to).toHaveLength(120);
    expect(new Set(to).size).toBe(120);
  });

  it('replies go out before follow-ups and campaign sends queued earlier', async () => {
    b = await startBench({ config: { outbound: { rate_per_second: 5, concurrency: 1 } } });
    await enqueueMany(b.t, [
      ...[0, 1, 2].map((i) => ({ kind: 'campaign' as const, to: recipient(i), text: `campaign ${i}` })),
      ...[3, 4, 5].map((i) => ({ kind: 'follow_up' as const, to: recipient(i), text: `follow-up ${i}` })),
      { kind: 'reply', to: recipient(9), text: 'reply', priority: 'high' },
    ]);
    await b.t.deps.outbound.sender.drain();
    const order = b.graph.requests.map((r) => (r.body as { text: { body: string } }).text.body);
    expect(order[0]).toBe('reply');
    expect(order.slice(1, 4).every((t) => t.startsWith('follow-up'))).toBe(true);
    expect(order.slice(4).every((t) => t.startsWith('campaign'))).toBe(true);
  });
});

describe('graceful stop', () => {
  it('parks unstarted sends as queued without a lease; nothing is left in sending', async () => {
    b = await startBench({ config: { outbound: { rate_per_second: 2, concurrency: 1 } } });
    b.graph.setDefault({ accept: true, delayMs: 100 });
    for (let i = 0; i < 20; i++) await enqueue(b.t, { to: recipient(i) });
    b.t.deps.outbound.sender.wake();
    const deadline = Date.now() + 10_000;
    while (b.graph.requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await b.t.daemon.stop();
    // Read after the stop (db-view opens the stopped daemon's database afresh).
    const states = rows<{ state: string; lease_until: number | null }>(
      b.t,
      'select state, lease_until from outbox',
    );
    expect(states.filter((s) => s.state === 'sending')).toEqual([]);
    const sent = states.filter((s) => s.state === 'sent').length;
    expect(sent).toBe(b.graph.requests.length);
    expect(states.filter((s) => s.state === 'queued')).toHaveLength(20 - sent);
    expect(states.every((s) => s.state !== 'queued' || s.lease_until === null)).toBe(true);
  });
});
