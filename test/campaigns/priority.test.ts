// SPEC §5, §7: campaigns never crowd out replies. With two campaigns that together want twice the
// channel's rate, a reply to a customer overtakes every campaign send not yet started. (The channel's
// cap itself is measured in test/outbound and bench/outbound.)
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one } from '../inbox/db-view.js';
import { type Bench, enqueue, startBench } from '../outbound/harness.js';
import { deliver, fixture } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const RATE = 50;
const CONCURRENCY = 8;

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

    const before = graph.requests.length;
    await enqueue(t, { kind: 'reply', to: { wa_id: '4917000000001' }, text: 'Your order is on its way' });
    t.deps.outbound.sender.wake();
    await waitFor(
      () => graph.requests.some((r) => (r.body as { to: string }).to === '4917000000001'),
      10_000,
      5,
    );
    const at = graph.requests.findIndex((r) => (r.body as { to: string }).to === '4917000000001');
    // Only sends already started (at most the concurrency, plus one at the rate gate) go before it,
    // although about two seconds of campaign sends were waiting for the channel.
    expect(at - before).toBeLessThanOrEqual(CONCURRENCY + 1);

    for (const id of ids) {
      await waitFor(async () => (await json(await t.request(`${BASE}/${id}`))).state === 'completed', 30_000);
    }
    expect(graph.requests).toHaveLength(301);
  }, 60_000);
});
