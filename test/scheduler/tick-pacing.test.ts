// A tick with much to do hands the event loop back while it works (SPEC §9a): after a burst, hundreds
// of conversations pass their SLA at once, and a tick escalating them back to back held every webhook
// answer for about 200 ms (bench/ingress at 1000/s). Each test watches from setImmediate callbacks how
// far the tick has got: a count strictly between none and all can only be seen if the tick gave the
// loop a turn in the middle of its work.
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';
import { insertDueFollowUps } from './due-follow-ups.js';

const MIN = 60_000;
// The test clock's start (2026-01-05T08:00Z), in unix seconds.
const NOW = 1_767_600_000;

let b: Bench;
afterEach(async () => {
  await b?.close();
});

/** `n` customers write once each, in one delivery: `n` open conversations. */
async function customers(bench: Bench, n: number): Promise<{ id: string; contact_id: string }[]> {
  const many = Array.from({ length: n }, (_, i) => ({
    from: `49171${String(i).padStart(8, '0')}`,
    timestamp: NOW,
    body: `hello ${i}`,
  }));
  await deliver(
    bench.t,
    signed(
      deliveryOf([
        messagesChange(
          many.map((m) => ({ wa_id: m.from })),
          many,
        ),
      ]),
    ),
  );
  return rows(bench.t, 'select id, contact_id from conversations order by id');
}

/** Runs `work` while every loop turn records `count()`; returns the counts seen strictly inside (0, total). */
async function countsSeenDuring(count: () => number, total: number, work: () => Promise<unknown>) {
  const seen = new Set<number>();
  let watching = true;
  const watch = () => {
    if (!watching) return;
    const n = count();
    if (n > 0 && n < total) seen.add(n);
    setImmediate(watch);
  };
  setImmediate(watch);
  try {
    await work();
  } finally {
    watching = false;
  }
  return seen;
}

const countWhere = (bench: Bench, sql: string) => (rows<{ n: number }>(bench.t, sql)[0] as { n: number }).n;

describe('a tick with much to do', () => {
  it('escalates 300 conversations past their SLA with loop turns between them', async () => {
    b = await startBench({ config: { escalation: { sla: '15m' }, scheduler: { batch_size: 500 } } });
    await customers(b, 300);
    rows(b.t, "update conversations set assigned_route = 'human' returning id");
    b.t.clock.advance(15 * MIN);
    let escalated = 0;
    const seen = await countsSeenDuring(
      () => countWhere(b, "select count(*) as n from conversations where queue_state = 'escalated'"),
      300,
      async () => {
        escalated = (await b.t.deps.outbound.scheduler.tick()).escalated;
      },
    );
    expect(escalated).toBe(300);
    expect(seen.size).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('decides a claimed batch of 100 due follow-ups in chunks, with loop turns between them', async () => {
    b = await startBench({
      config: { follow_up_rules: [{ id: 'nudge', after: '1h', text: 'Still there?' }] },
    });
    const [conv] = await customers(b, 1);
    const now = b.t.clock.now();
    await insertDueFollowUps(b.t.deps.db, conv?.id as string, now, 100);
    let decided = 0;
    // The claim holds all 100 at once; each decision lets go of its lease.
    const seen = await countsSeenDuring(
      () => countWhere(b, 'select count(*) as n from follow_ups where lease_owner is not null'),
      100,
      async () => {
        const r = await b.t.deps.outbound.scheduler.tick();
        decided = r.enqueued + r.skipped + r.deferred + r.cancelled;
      },
    );
    expect(decided).toBe(100);
    expect(countWhere(b, 'select count(*) as n from follow_ups where lease_owner is not null')).toBe(0);
    // Claimed together, decided 25 per transaction: 75, 50 and 25 still held between them.
    expect([...seen].sort((x, y) => y - x)).toEqual([75, 50, 25]);
  }, 120_000);
});
