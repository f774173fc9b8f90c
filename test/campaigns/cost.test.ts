// SPEC §14 cost: the pricing Meta puts on statuses is stored per message and counted once per
// message; a rate card (per category, per calling code, "*" for the rest) turns it into exact cost in
// the campaign detail and in insights, per reply earned; without one, billable counts by category; a
// rate card with an unknown category or a negative price is refused with its path.
import { afterEach, describe, expect, it } from 'vitest';
import { costOf, priceOf } from '../../src/pricing/rate-card.js';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one, rows } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed, statusChange } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const INSIGHTS = '/api/extensions/native-whatsapp/runtime/insights';
const CONFIG = '/api/extensions/native-whatsapp/management/config';
const TEMPLATE = { name: 'order_shipped', language: 'pt_BR' };
const RATES = {
  currency: 'USD',
  rates: { marketing: { '55': 0.0625, '1': 0.025, '*': 0.1 }, utility: { '*': 0.004 } },
};
const seconds = (ms: number) => Math.floor(ms / 1000);
// Two in Brazil (55), one in the US (1), one in Germany (49, priced by "*"), one free utility message.
const NUMBERS = ['5511988887777', '5521977776666', '14155550100', '4915112345678', '5531966665555'];
const MARKETING = { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' };

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

async function pricedCampaign(pricing: Record<string, unknown> | null): Promise<{ b: Bench; id: string }> {
  const b = await startBench({
    config: {
      outbound: { rate_per_second: 1000, concurrency: 8 },
      escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
      ...(pricing ? { pricing } : {}),
    },
  });
  bench = b;
  const { t } = b;
  await deliver(t, fixture('field_message_template_status_approved.json'));
  const created = await t.request(BASE, {
    body: {
      name: 'Priced',
      agent_uuid: one<{ uuid: string }>(t, 'select uuid from agents limit 1').uuid,
      template: TEMPLATE,
      recipients: NUMBERS.map((wa_id) => ({ wa_id })),
      rate_per_second: 100,
    },
  });
  const id = (await json(created)).id as string;
  await t.request(`${BASE}/${id}/start`, { method: 'POST' });
  await waitFor(async () => (await json(await t.request(`${BASE}/${id}`))).state === 'completed', 20_000, 20);
  const sent = rows<{ wa_id: string; wamid: string }>(
    t,
    'select wa_id, wamid from campaign_recipients where campaign_id = ? order by "index"',
    id,
  );
  const at = seconds(t.clock.now()) + 2;
  const statuses = sent.flatMap((s, i) => {
    const pricing =
      i === 4
        ? { billable: false, pricing_model: 'PMP', type: 'free_entry_point', category: 'utility' }
        : MARKETING;
    // Each message's sent and delivered both carry its pricing: it is counted once.
    return ['sent', 'delivered'].map((status, k) => ({
      id: s.wamid,
      status,
      timestamp: at + k,
      recipient_id: s.wa_id,
      extra: { pricing },
    }));
  });
  await deliver(t, signed(deliveryOf([statusChange(statuses)])));
  // Two customers answer within the attribution window.
  for (const wa of NUMBERS.slice(0, 2)) {
    await deliver(
      t,
      signed(deliveryOf([messagesChange([{ wa_id: wa }], [{ from: wa, timestamp: at + 60, body: 'Yes!' }])])),
    );
  }
  return { b, id };
}

describe('cost', () => {
  it('turns Meta pricing into exact cost with a rate card: total, by category, per reply', async () => {
    const { b, id } = await pricedCampaign(RATES);
    const stored = rows<{
      pricing_category: string;
      pricing_billable: number;
      pricing_model: string;
      pricing_type: string;
    }>(
      b.t,
      `select pricing_category, pricing_billable, pricing_model, pricing_type from messages
       where direction = 'outbound' order by pricing_category, wamid`,
    );
    expect(stored).toHaveLength(5);
    expect(stored[0]).toEqual({
      pricing_category: 'marketing',
      pricing_billable: 1,
      pricing_model: 'pmp',
      pricing_type: 'regular',
    });
    expect(stored[4]).toMatchObject({
      pricing_category: 'utility',
      pricing_billable: 0,
      pricing_type: 'free_entry_point',
    });

    const d = await json(await b.t.request(`${BASE}/${id}`));
    // 2 × 0.0625 (55) + 0.025 (1) + 0.1 (49 → "*") = 0.25; two replies: 0.125 each.
    expect(d.cost).toEqual({
      currency: 'USD',
      total: 0.25,
      by_category: {
        marketing: { billable: 4, free: 0, cost: 0.25 },
        utility: { billable: 0, free: 1, cost: 0 },
      },
      unpriced: 0,
      replies: 2,
      per_reply: 0.125,
    });

    const insight = await json(await b.t.request(`${INSIGHTS}?window=24h`));
    expect(insight.cost).toMatchObject({
      currency: 'USD',
      total: 0.25,
      outreach_total: 0.25,
      replies: 2,
      per_reply: 0.125,
    });
  }, 30_000);

  it('without a rate card: billable counts by category, no money', async () => {
    const { b, id } = await pricedCampaign(null);
    const d = await json(await b.t.request(`${BASE}/${id}`));
    expect(d.cost).toEqual({
      currency: null,
      total: null,
      by_category: {
        marketing: { billable: 4, free: 0, cost: null },
        utility: { billable: 0, free: 1, cost: null },
      },
      unpriced: 0,
      replies: 2,
      per_reply: null,
    });
  }, 30_000);

  it('refuses a rate card with an unknown category or a negative price, naming the paths', async () => {
    const b = await startBench({ config: {} });
    bench = b;
    const res = await b.t.request(CONFIG, {
      method: 'PUT',
      body: {
        version: 0,
        pricing: { rates: { promo: { '*': 0.1 }, marketing: { '55': -0.01, '1x': 0.1 } } },
      },
    });
    expect(res.status).toBe(400);
    const paths = (await json(res)).error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual([
      'pricing.rates.marketing.1x',
      'pricing.rates.marketing.55',
      'pricing.rates.promo',
    ]);
  });
});

describe('rate card arithmetic', () => {
  it('takes the longest calling code, then "*", and sums in exact decimals', () => {
    const rates = { marketing: { '1': 0.025, '1242': 0.05, '*': 0.1 } };
    expect(priceOf(rates, 'marketing', '1242')).toBe(0.05);
    expect(priceOf(rates, 'marketing', '1415')).toBe(0.025);
    expect(priceOf(rates, 'marketing', '4915')).toBe(0.1);
    expect(priceOf(rates, 'utility', '4915')).toBeUndefined();
    const cost = costOf(
      [
        { category: 'marketing', prefix: '1415', billable: 3, free: 0 },
        { category: 'utility', prefix: '4915', billable: 2, free: 1 },
      ],
      { currency: 'EUR', rates },
      0,
    );
    // 0.025 × 3 = 0.075 exactly (a float sum would give 0.07500000000000001).
    expect(cost).toMatchObject({ total: 0.075, unpriced: 2, per_reply: null });
  });
});
