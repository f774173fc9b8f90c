// SPEC §14 against the fake Cloud API: a small campaign whose recipients end in every state (opted
// out, refused by the API, failed later, sent, delivered, read, replied) shows it in its funnel and
// failures; its recipients come out as one CSV (quoted, formula-guarded, streamed by pages); and each
// retarget audience picks the right recipients, never opted-out ones, only from a campaign at rest.
import { afterEach, describe, expect, it } from 'vitest';
import { CSV_PAGE } from '../../src/campaigns/recipients-csv.js';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one, rows } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed, statusChange } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const TEMPLATE = { name: 'order_shipped', language: 'pt_BR' };
const HOUR = 3_600_000;
const seconds = (ms: number) => Math.floor(ms / 1000);
const number = (i: number) => `5511900000${String(i).padStart(3, '0')}`;

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

async function fastBench(config: Record<string, unknown> = {}): Promise<Bench> {
  const b = await startBench({
    config: {
      outbound: { rate_per_second: 1000, concurrency: 8 },
      escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
      ...config,
    },
  });
  await deliver(b.t, fixture('field_message_template_status_approved.json'));
  return b;
}

const agentUuid = (b: Bench) => one<{ uuid: string }>(b.t, 'select uuid from agents limit 1').uuid;
const detail = async (b: Bench, id: string) => json(await b.t.request(`${BASE}/${id}`));

async function says(b: Bench, waId: string, text: string, atMs: number): Promise<void> {
  await deliver(
    b.t,
    signed(
      deliveryOf([messagesChange([{ wa_id: waId }], [{ from: waId, timestamp: seconds(atMs), body: text }])]),
    ),
  );
}

async function createCampaign(b: Bench, recipients: string[], extra: Record<string, unknown> = {}) {
  const res = await b.t.request(BASE, {
    body: {
      name: 'Winter sale',
      agent_uuid: agentUuid(b),
      template: TEMPLATE,
      recipients: recipients.map((wa_id) => ({ wa_id })),
      rate_per_second: 100,
      ...extra,
    },
  });
  expect(res.status).toBe(201);
  return (await json(res)).id as string;
}

/**
 * Eight recipients: 0 opted out, 1-2 refused with 131026, 3 failed later with 131049 (an error title
 * that looks like a formula), 4 sent, 5 delivered, 6 read, 7 read and replied.
 */
async function everyState(b: Bench): Promise<string> {
  const { t, graph } = b;
  const start = t.clock.now();
  await says(b, number(0), 'STOP', start - HOUR);
  graph.forRecipient(number(1), { error: 131026 });
  graph.forRecipient(number(2), { error: 131026 });
  const id = await createCampaign(
    b,
    Array.from({ length: 8 }, (_, i) => number(i)),
  );
  expect((await t.request(`${BASE}/${id}/start`, { method: 'POST' })).status).toBe(200);
  await waitFor(async () => (await detail(b, id)).state === 'completed', 20_000, 20);
  const wamid = (i: number) =>
    one<{ wamid: string }>(t, 'select wamid from campaign_recipients where wa_id = ?', number(i)).wamid;
  const at = seconds(start) + 5;
  await deliver(
    t,
    signed(
      deliveryOf([
        statusChange([
          {
            id: wamid(3),
            status: 'failed',
            timestamp: at,
            recipient_id: number(3),
            extra: { errors: [{ code: 131049, title: '=HYPERLINK("http://x"), "not delivered"' }] },
          },
          { id: wamid(5), status: 'delivered', timestamp: at, recipient_id: number(5) },
          { id: wamid(6), status: 'delivered', timestamp: at, recipient_id: number(6) },
          { id: wamid(6), status: 'read', timestamp: at + 1, recipient_id: number(6) },
          { id: wamid(7), status: 'read', timestamp: at + 1, recipient_id: number(7) },
        ]),
      ]),
    ),
  );
  t.clock.advance(HOUR);
  await says(b, number(7), 'I want one', t.clock.now());
  return id;
}

describe('campaign detail', () => {
  it('shows every funnel stage, failures by code with Meta titles, cost and eta', async () => {
    bench = await fastBench();
    const draft = await createCampaign(bench, [number(50), number(51)]);
    const d0 = await detail(bench, draft);
    expect(d0.funnel).toEqual({
      targeted: 2,
      skipped_opted_out: 0,
      queued: 2,
      sent: 0,
      delivered: 0,
      read: 0,
      replied: 0,
      failed: 0,
    });
    // Two recipients at 100/s from now.
    expect(d0.eta).toBe(new Date(bench.t.clock.now() + 20).toISOString());

    const id = await everyState(bench);
    const d = await detail(bench, id);
    expect(d.counts).toEqual({
      queued: 0,
      sent: 1,
      delivered: 1,
      read: 1,
      replied: 1,
      failed: 3,
      skipped_opted_out: 1,
    });
    expect(d.funnel).toEqual({
      targeted: 8,
      skipped_opted_out: 1,
      queued: 0,
      sent: 4,
      delivered: 3,
      read: 2,
      replied: 1,
      failed: 3,
    });
    expect(d.failures).toEqual([
      { code: 131026, title: 'Message undeliverable', count: 2 },
      { code: 131049, title: 'Meta chose not to deliver', count: 1 },
    ]);
    expect(d.cost).toMatchObject({ currency: null, total: null, replies: 1, per_reply: null });
    expect(d.eta).toBe(d.completed_at);
    expect(d).toMatchObject({ pause_reason: null, retarget_of: null });
  }, 30_000);
});

describe('GET /campaigns/:id/recipients?format=csv', () => {
  it('has one header line, every recipient with times and failure, quoted and formula-guarded', async () => {
    bench = await fastBench();
    const id = await everyState(bench);
    const res = await bench.t.request(`${BASE}/${id}/recipients?format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await res.text();
    const lines = text.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe(
      'index,wa_id,state,wamid,sent_at,delivered_at,read_at,replied_at,failed_at,error_code,error_title,conversation_id,parameters',
    );
    expect(lines.filter((l) => l.startsWith('index,'))).toHaveLength(1);
    expect(lines).toHaveLength(9);
    const byNumber = new Map(lines.slice(1).map((l) => [l.split(',')[1], l]));
    expect(byNumber.get(number(0))).toMatch(/^0,5511900000000,skipped_opted_out,/);
    // The title Meta sent starts like a formula and holds commas and quotes.
    expect(byNumber.get(number(3))).toContain(`,131049,"'=HYPERLINK(""http://x""), ""not delivered""",`);
    const replied = (byNumber.get(number(7)) ?? '').split(',');
    expect(replied[2]).toBe('replied');
    expect(replied[6]).toMatch(/^2026-/); // read_at
    expect(replied[7]).toMatch(/^2026-/); // replied_at
    expect(replied[11]).not.toBe(''); // the conversation
  }, 30_000);

  it('streams page by page: a list longer than a page arrives in several chunks, header once', async () => {
    bench = await fastBench();
    const n = CSV_PAGE * 2 + 500;
    const id = await createCampaign(
      bench,
      Array.from({ length: n }, (_, i) => `4917${String(i).padStart(8, '0')}`),
    );
    const res = await bench.t.request(`${BASE}/${id}/recipients?format=csv&state=queued`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    expect(chunks).toBe(4); // the header, then three pages
    const lines = text.split('\r\n').filter((l) => l !== '');
    expect(lines).toHaveLength(n + 1);
    expect(lines.filter((l) => l.startsWith('index,'))).toHaveLength(1);
    expect(lines[n]).toMatch(new RegExp(`^${n - 1},4917${String(n - 1).padStart(8, '0')},queued,`));
  }, 30_000);
});

describe('POST /campaigns/:id/retarget', () => {
  const retarget = (b: Bench, id: string, body: Record<string, unknown>) =>
    b.t.request(`${BASE}/${id}/retarget`, { body: { template: TEMPLATE, ...body } });
  const waIdsOf = (b: Bench, id: string) =>
    rows<{ wa_id: string }>(
      b.t,
      'select wa_id from campaign_recipients where campaign_id = ? order by "index"',
      id,
    ).map((r) => r.wa_id);

  it('no_reply, not_read and failed pick their recipients, opted-out ones left out', async () => {
    bench = await fastBench();
    const id = await everyState(bench);
    // Recipient 4 opts out after the campaign: no retarget may include them.
    await says(bench, number(4), 'STOP', bench.t.clock.now());

    const noReply = await retarget(bench, id, { audience: 'no_reply' });
    expect(noReply.status).toBe(201);
    const nr = await json(noReply);
    expect(nr).toMatchObject({
      state: 'draft',
      name: 'Winter sale (retarget: no_reply)',
      retarget_of: id,
      recipients: 2,
      counts: { queued: 2 },
    });
    expect(waIdsOf(bench, nr.id)).toEqual([number(5), number(6)]);

    const notRead = await json(await retarget(bench, id, { audience: 'not_read', name: 'Second try' }));
    expect(notRead).toMatchObject({ name: 'Second try', recipients: 1 });
    expect(waIdsOf(bench, notRead.id)).toEqual([number(5)]);

    // 131049 (Meta's per-user marketing limit) may succeed later; 131026 (undeliverable) not.
    const failed = await json(await retarget(bench, id, { audience: 'failed' }));
    expect(waIdsOf(bench, failed.id)).toEqual([number(3)]);

    // The new campaign starts and sends like any other.
    expect((await bench.t.request(`${BASE}/${nr.id}/start`, { method: 'POST' })).status).toBe(200);
    await waitFor(async () => (await detail(bench as Bench, nr.id)).state === 'completed', 20_000, 20);
    const sends = bench.graph.requests.filter((r) => (r.body as { to?: string }).to === number(5));
    expect(sends).toHaveLength(2);
  }, 30_000);

  it('refuses a running campaign with what to do, an unknown audience with its path', async () => {
    bench = await fastBench();
    const id = await createCampaign(bench, [number(1), number(2)], { start_at: '2027-01-01T00:00:00Z' });
    expect((await bench.t.request(`${BASE}/${id}/start`, { method: 'POST' })).status).toBe(200);
    const busy = await retarget(bench, id, { audience: 'no_reply' });
    expect(busy.status).toBe(409);
    const err = (await json(busy)).error;
    expect(err.code).toBe('invalid_state');
    expect(err.message).toMatch(/scheduled.*pause it .*or wait until it completes, then retarget/);

    const unknown = await retarget(bench, id, { audience: 'everyone' });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error.details).toEqual([
      { path: 'audience', message: 'must be one of no_reply, not_read, failed' },
    ]);
    expect(rows(bench.t, 'select id from campaigns')).toHaveLength(1);
  });
});
