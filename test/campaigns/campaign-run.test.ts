// SPEC §7 end to end against the fake Cloud API (real HTTP): a 1,000-recipient campaign with
// opted-out customers, send failures (131026 and 131049 answered by the API, 131049 reported later
// by a status webhook), delivered and read statuses, and replies inside and outside the attribution
// window. Every customer who may be sent to is sent to exactly once, and the counts, recipient
// states, response rate and conversation links say what happened.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one, rows } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed, statusChange } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const HOUR = 3_600_000;
const TEMPLATE = { name: 'order_shipped', language: 'pt_BR' };

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

interface CampaignBody {
  id: string;
  state: string;
  recipients: number;
  counts: Record<string, number>;
  response_rate: number | null;
  duplicates?: unknown[];
}

const number = (i: number) => `4915200${String(i).padStart(6, '0')}`;
const seconds = (ms: number) => Math.floor(ms / 1000);
const toOf = (body: unknown) => (body as { to?: string }).to ?? '';

async function fastBench(): Promise<Bench> {
  const b = await startBench({
    config: {
      outbound: { rate_per_second: 1000, concurrency: 16 },
      escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
      // Its 20 scripted refusals come first: this test is about counts, not auto-pause (auto-pause.test.ts).
      campaigns: { pause_after_errors: 100, pause_error_rate: 1 },
    },
  });
  // The template becomes approved the way Meta says so: a message_template_status_update webhook.
  await deliver(b.t, fixture('field_message_template_status_approved.json'));
  return b;
}

async function agentUuid(b: Bench): Promise<string> {
  return one<{ uuid: string }>(b.t, 'select uuid from agents limit 1').uuid;
}

async function customerSays(b: Bench, waIds: string[], text: string, atMs: number): Promise<void> {
  const messages = waIds.map((wa) => ({ from: wa, timestamp: seconds(atMs), body: text }));
  // One delivery per 250 messages, as Meta batches them.
  for (let i = 0; i < messages.length; i += 250) {
    const part = messages.slice(i, i + 250);
    await deliver(
      b.t,
      signed(
        deliveryOf([
          messagesChange(
            part.map((m) => ({ wa_id: m.from })),
            part,
          ),
        ]),
      ),
    );
  }
}

describe('a 1,000-recipient campaign against the fake Cloud API', () => {
  it('sends each reachable customer once and tracks failures, statuses and replies', async () => {
    bench = await fastBench();
    const { t, graph } = bench;
    const start = t.clock.now();
    const all = Array.from({ length: 1000 }, (_, i) => number(i));
    const optedOut = all.filter((_, i) => i % 50 === 7); // 20 customers
    await customerSays(bench, optedOut, 'STOP', start - HOUR);

    // 10 sends refused as undeliverable, 10 as "Meta chose not to deliver", the rest accepted.
    graph.next(
      ...Array.from({ length: 10 }, () => ({ error: 131026 })),
      ...Array.from({ length: 10 }, () => ({ error: 131049 })),
    );

    const created = await t.request(BASE, {
      body: {
        name: 'January promo',
        agent_uuid: await agentUuid(bench),
        template: { ...TEMPLATE, components: [{ type: 'header', parameters: [] }] },
        recipients: all.map((wa_id, i) => ({ wa_id, parameters: [`Customer ${i}`] })),
        rate_per_second: 500,
      },
    });
    expect(created.status).toBe(201);
    const campaign: CampaignBody = await json(created);
    expect(campaign).toMatchObject({ state: 'draft', recipients: 1000, response_rate: null });

    const started = await t.request(`${BASE}/${campaign.id}/start`, { method: 'POST' });
    expect(started.status).toBe(200);

    const read = async (): Promise<CampaignBody> => json(await t.request(`${BASE}/${campaign.id}`));
    // A limit, not a speed: the campaign takes seconds alone and minutes on a loaded box.
    await waitFor(async () => (await read()).state === 'completed', 180_000, 50);

    // At the API: every reachable customer exactly once, no opted-out one ever.
    const sends = graph.requests.filter((r) => r.path.endsWith('/messages'));
    const perCustomer = new Map<string, number>();
    for (const r of sends) perCustomer.set(toOf(r.body), (perCustomer.get(toOf(r.body)) ?? 0) + 1);
    expect(sends).toHaveLength(980);
    expect([...perCustomer.values()].every((n) => n === 1)).toBe(true);
    for (const wa of optedOut) expect(perCustomer.has(wa)).toBe(false);
    // The template went with the recipient's own parameters.
    const first = sends.find((r) => toOf(r.body) === number(0))?.body as {
      type: string;
      template: { name: string; components: { type: string; parameters: unknown[] }[] };
    };
    expect(first.type).toBe('template');
    expect(first.template.components).toEqual([
      { type: 'header', parameters: [] },
      { type: 'body', parameters: [{ type: 'text', text: 'Customer 0' }] },
    ]);

    const refused = sends.filter((r) => 'error' in r.answered);
    const codeOf = new Map(refused.map((r) => [toOf(r.body), (r.answered as { error: number }).error]));
    const failedRows = rows<{ wa_id: string; error_code: number }>(
      t,
      `select wa_id, error_code from campaign_recipients where state = 'failed'`,
    );
    expect(failedRows).toHaveLength(20);
    for (const f of failedRows) expect(f.error_code).toBe(codeOf.get(f.wa_id));

    let c = await read();
    expect(c.counts).toEqual({
      queued: 0,
      sent: 960,
      delivered: 0,
      read: 0,
      replied: 0,
      failed: 20,
      skipped_opted_out: 20,
    });

    // Statuses: 10 failed later with 131049, 300 delivered, 100 read (Meta skipped their delivered).
    const sent = rows<{ wa_id: string; wamid: string }>(
      t,
      `select wa_id, wamid from campaign_recipients where state = 'sent' order by "index"`,
    );
    const at = seconds(start) + 5;
    const lateFailed = sent.slice(0, 10);
    const delivered = sent.slice(10, 310);
    const readOnes = sent.slice(310, 410);
    await deliver(
      t,
      signed(
        deliveryOf([
          statusChange([
            ...lateFailed.map((s) => ({
              id: s.wamid,
              status: 'failed',
              timestamp: at,
              recipient_id: s.wa_id,
              extra: {
                errors: [
                  {
                    code: 131049,
                    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
                  },
                ],
              },
            })),
            ...delivered.map((s) => ({
              id: s.wamid,
              status: 'delivered',
              timestamp: at,
              recipient_id: s.wa_id,
            })),
            ...readOnes.map((s) => ({ id: s.wamid, status: 'read', timestamp: at, recipient_id: s.wa_id })),
          ]),
        ]),
      ),
    );
    c = await read();
    expect(c.counts).toMatchObject({ sent: 550, delivered: 300, read: 100, failed: 30 });

    // Replies: 50 within the attribution window (72h), 10 after it, 5 from customers never sent to.
    const repliers = [...delivered.slice(0, 25), ...readOnes.slice(0, 25)];
    t.clock.advance(HOUR);
    await customerSays(
      bench,
      repliers.map((r) => r.wa_id),
      'Yes please, tell me more',
      t.clock.now(),
    );
    const late = sent.slice(500, 510);
    t.clock.advance(72 * HOUR);
    await customerSays(
      bench,
      late.map((r) => r.wa_id),
      'Sorry, only saw this now',
      t.clock.now(),
    );
    await customerSays(bench, [lateFailed[0]?.wa_id as string, number(2000)], 'Hello?', t.clock.now());

    c = await read();
    expect(c.counts).toEqual({
      queued: 0,
      sent: 550,
      delivered: 275,
      read: 75,
      replied: 50,
      failed: 30,
      skipped_opted_out: 20,
    });
    expect(c.response_rate).toBeCloseTo(50 / 950, 10);
    expect(c.state).toBe('completed');

    // The repliers' conversations carry the campaign; the late ones' do not.
    const linked = rows<{ wa_id: string }>(
      t,
      `select ct.wa_id from conversations cv join contacts ct on ct.id = cv.contact_id
       where cv.campaign_id = ?`,
      campaign.id,
    ).map((r) => r.wa_id);
    expect(new Set(linked)).toEqual(new Set(repliers.map((r) => r.wa_id)));

    const repliedPage: { items: { state: string; conversation_id: string | null }[] } = await json(
      await t.request(`${BASE}/${campaign.id}/recipients?state=replied&limit=100`),
    );
    expect(repliedPage.items).toHaveLength(50);
    expect(repliedPage.items.every((r) => r.state === 'replied' && r.conversation_id !== null)).toBe(true);
  }, 300_000);
});
