// Housekeeping on the tick: the retention purge takes rejected deliveries with the processed ones, and
// status events that never matched a message go after `retention.unmatched_statuses`, while a
// matched status (part of its message's history) stays.
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../inbox/db-view.js';
import { type Bench, customerConversation, enqueue, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, post, signed, statusChange, wamid } from '../webhook/deliveries.js';

const DAY = 24 * 60 * 60_000;

let b: Bench;
afterEach(async () => {
  await b?.close();
});

const inbox = () => rows<{ state: string }>(b.t, 'select state from inbox order by received_at, id');
const statusEvents = () =>
  rows<{ wamid: string; applied_at: number | null }>(b.t, 'select wamid, applied_at from status_events');

async function statusFor(id: string): Promise<void> {
  const ts = Math.floor(b.t.clock.now() / 1000);
  await deliver(b.t, signed(deliveryOf([statusChange([{ id, status: 'delivered', timestamp: ts }])])));
}

describe('housekeeping', () => {
  it('rejected deliveries past retention are purged with the processed ones', async () => {
    b = await startBench({ config: { retention: { raw_webhooks: '30d' } } });
    await customerConversation(b.t);
    expect((await post(b.t, signed('not json at all'))).status).toBe(400);
    expect(inbox().map((r) => r.state)).toEqual(['processed', 'rejected']);

    b.t.clock.advance(30 * DAY - 1000);
    expect((await b.t.deps.outbound.scheduler.tick()).purged).toBe(0);
    b.t.clock.advance(2000);
    expect((await b.t.deps.outbound.scheduler.tick()).purged).toBe(2);
    expect(inbox()).toEqual([]);
  });

  it('a status for an unknown wamid is purged after retention.unmatched_statuses; a matched one stays', async () => {
    b = await startBench({
      config: { retention: { raw_webhooks: '90d', unmatched_statuses: '7d' } },
    });
    const conv = await customerConversation(b.t);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    const [sent] = rows<{ wamid: string }>(b.t, "select wamid from messages where direction = 'outbound'");
    const unknown = wamid('nobody-sent-this');
    await statusFor(sent?.wamid as string);
    await statusFor(unknown);
    expect(statusEvents().map((e) => [e.wamid, e.applied_at === null])).toEqual([
      [sent?.wamid, false],
      [unknown, true],
    ]);

    b.t.clock.advance(7 * DAY - 1000);
    expect((await b.t.deps.outbound.scheduler.tick()).purged_statuses).toBe(0);
    b.t.clock.advance(2000);
    expect((await b.t.deps.outbound.scheduler.tick()).purged_statuses).toBe(1);
    expect(statusEvents().map((e) => e.wamid)).toEqual([sent?.wamid]);
  });
});
