// SPEC §5, §7: campaigns never crowd out replies. With two campaigns that together want twice the
// channel's rate, a reply to a customer overtakes every campaign send not yet started. (The channel's
// cap itself is measured in test/outbound and bench/outbound.) Asserted on the daemon's own rows: a
// count of arrivals at the fake API since the reply was queued also counted sends the daemon had
// started before it held the reply, and failed on a loaded machine (issue 20).
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one, rows } from '../inbox/db-view.js';
import { type Bench, enqueue, startBench } from '../outbound/harness.js';
import { deliver, fixture } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const RATE = 50;
const CONCURRENCY = 8;
const REPLY_TO = '4917000000001';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

describe('a reply while a campaign runs at the channel cap', () => {
  it('goes out ahead of the campaign sends waiting for the channel', async () => {
    bench = await startBench({ config: { outbound: { rate_per_second: RATE, concurrency: CONCURRENCY } } });
    const { t, graph } = bench;
    await deliver(t, fixture('field_message_template_status_approved.json'));
    // Two campaigns, each allowed the channel's full rate: together they want twice what the channel
    // allows, so their sends queue up for it.
    const ids: string[] = [];
    for (const part of [0, 1]) {
      const res = await t.request(BASE, {
        body: {
          name: `Full speed ${part}`,
          agent_uuid: one<{ uuid: string }>(t, 'select uuid from agents limit 1').uuid,
          template: { name: 'order_shipped', language: 'pt_BR' },
          recipients: Array.from({ length: 150 }, (_, i) => ({
            wa_id: `491550${part}${String(i).padStart(6, '0')}`,
          })),
          rate_per_second: RATE,
        },
      });
      expect(res.status).toBe(201);
      ids.push((await json(res)).id);
    }
    for (const id of ids) await t.request(`${BASE}/${id}/start`, { method: 'POST' });
    await waitFor(() => graph.requests.length >= 40, 20_000, 5);

    await enqueue(t, { kind: 'reply', to: { wa_id: REPLY_TO }, text: 'Your order is on its way' });
    t.deps.outbound.sender.wake();
    // The moment the daemon holds the reply (claimed into its queue, or further), the campaign rows
    // still `queued` have not been marked `sending`. Only those whose send had already begun (at most
    // the concurrency: a started send marks its row first, waiting its turn for the connection) may
    // reach the API before the reply; none of the rest. Counted on the daemon's own rows, not on
    // arrival times at the fake API, which a loaded machine stretches.
    let waiting: string[] = [];
    await waitFor(
      () => {
        const reply = one<{ state: string; lease_owner: string | null }>(
          t,
          `select state, lease_owner from outbox where "to" = '${REPLY_TO}'`,
        );
        if (reply.state === 'queued' && reply.lease_owner === null) return false;
        waiting = rows<{ to: string }>(
          t,
          `select "to" from outbox where campaign_recipient_id is not null and state = 'queued'`,
        ).map((r) => r.to);
        return true;
      },
      10_000,
      1,
    );
    // About two seconds of campaign sends were waiting for the channel when the reply came.
    expect(waiting.length).toBeGreaterThan(CONCURRENCY);
    await waitFor(() => graph.requests.some((r) => (r.body as { to: string }).to === REPLY_TO), 10_000, 5);
    const at = graph.requests.findIndex((r) => (r.body as { to: string }).to === REPLY_TO);
    const overtaken = new Set(waiting);
    const ahead = graph.requests.slice(0, at).filter((r) => overtaken.has((r.body as { to: string }).to));
    expect(ahead.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(waiting.length - ahead.length).toBeGreaterThan(CONCURRENCY);

    for (const id of ids) {
      await waitFor(async () => (await json(await t.request(`${BASE}/${id}`))).state === 'completed', 30_000);
    }
    expect(graph.requests).toHaveLength(301);
  }, 60_000);
});
