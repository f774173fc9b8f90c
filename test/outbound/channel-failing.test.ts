// SPEC §8 status: a transport failing on repeated errors makes the runtime `degraded` (the fault
// suite's Cloud API outage found that nothing ever said so); the next accepted send clears it.
import { afterEach, describe, expect, it } from 'vitest';
import { FAILING_AFTER } from '../../src/outbound/sender.js';
import { PNID } from '../webhook/deliveries.js';
import { type Bench, enqueue, outboxRow, startBench } from './harness.js';

let b: Bench;
afterEach(async () => {
  await b?.close();
});

const recipients = (n: number) => Array.from({ length: n }, (_, i) => `49170000000${10 + i}`);

describe('a channel whose sends keep failing', () => {
  it(`${FAILING_AFTER} retryable failures in a row degrade the runtime with the reason; an accepted send clears it`, async () => {
    b = await startBench({ config: { outbound: { retry_base_delay: '1s', retry_max_delay: '1s' } } });
    b.graph.next(...Array.from({ length: FAILING_AFTER }, () => ({ drop: true as const })));
    const ids = [];
    for (const wa of recipients(FAILING_AFTER)) ids.push(await enqueue(b.t, { to: { wa_id: wa } }));
    await b.t.deps.outbound.sender.drain();
    for (const id of ids) expect(outboxRow(b.t, id)).toMatchObject({ state: 'queued', attempts: 1 });
    const view = b.t.deps.runtime.view();
    expect(view.status).toBe('degraded');
    expect(view.channels).toEqual([expect.objectContaining({ phone_number_id: PNID, kind: 'failing' })]);
    expect(view.reasons[0]).toMatch(/keep failing/);
    // Not stopped: the retries go out, and the first accepted one makes the runtime active again.
    b.t.clock.advance(2000);
    await b.t.deps.outbound.sender.drain();
    for (const id of ids) expect(outboxRow(b.t, id).state).toBe('sent');
    expect(b.t.deps.runtime.view().status).toBe('active');
  });

  it('fewer failures in a row, or failures broken by an accepted send, leave it active', async () => {
    b = await startBench();
    b.graph.next(
      ...Array.from({ length: FAILING_AFTER - 1 }, () => ({ drop: true as const })),
      { accept: true },
      { drop: true },
    );
    for (const wa of recipients(FAILING_AFTER + 1)) await enqueue(b.t, { to: { wa_id: wa } });
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(FAILING_AFTER + 1);
    expect(b.t.deps.runtime.view().status).toBe('active');
  });
});
