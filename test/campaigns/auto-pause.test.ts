// SPEC §14 auto-pause against the fake Cloud API: a run of permanent failures, an error rate over the
// last sends, the template turning PAUSED (status webhook) or its quality RED (quality webhook) each
// pause a running campaign with a pause_reason; resume re-checks the template.
import { afterEach, describe, expect, it } from 'vitest';
import { appendOutcome, failureVerdict, markLateFailure } from '../../src/campaigns/auto-pause.js';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, fixture, signed } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const TEMPLATE = { name: 'order_shipped', language: 'pt_BR' };
/** Later than the approved fixture's entry time, so the cache takes it. */
const LATER = 1767622200 + 60;
const number = (i: number) => `5521900000${String(i).padStart(3, '0')}`;

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

async function fastBench(campaigns: Record<string, unknown> = {}): Promise<Bench> {
  const b = await startBench({
    config: { outbound: { rate_per_second: 1000, concurrency: 8 }, campaigns },
  });
  await deliver(b.t, fixture('field_message_template_status_approved.json'));
  return b;
}

async function started(b: Bench, n: number, rate: number): Promise<string> {
  const res = await b.t.request(BASE, {
    body: {
      name: 'Promo',
      agent_uuid: one<{ uuid: string }>(b.t, 'select uuid from agents limit 1').uuid,
      template: TEMPLATE,
      recipients: Array.from({ length: n }, (_, i) => ({ wa_id: number(i) })),
      rate_per_second: rate,
    },
  });
  expect(res.status).toBe(201);
  const id = (await json(res)).id as string;
  expect((await b.t.request(`${BASE}/${id}/start`, { method: 'POST' })).status).toBe(200);
  return id;
}

const detail = async (b: Bench, id: string) => json(await b.t.request(`${BASE}/${id}`));
const paused = async (b: Bench, id: string) => {
  await waitFor(async () => (await detail(b, id)).state === 'paused', 20_000, 20);
  return detail(b, id);
};

function templateChange(field: string, value: Record<string, unknown>) {
  return signed({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', time: LATER, changes: [{ field, value }] }],
  });
}

const templateIds = {
  message_template_id: 1689556908129832,
  message_template_name: TEMPLATE.name,
  message_template_language: TEMPLATE.language,
};

describe('auto-pause', () => {
  it('pauses after pause_after_errors permanent failures in a row; resume starts the count afresh', async () => {
    bench = await fastBench({ pause_after_errors: 5 });
    bench.graph.setDefault({ error: 131026 });
    const id = await started(bench, 200, 40);
    const d = await paused(bench, id);
    expect(d.pause_reason).toMatch(
      /^\d+ sends in a row failed permanently \(campaigns\.pause_after_errors is 5\)$/,
    );
    expect(d.counts.failed).toBeGreaterThanOrEqual(5);
    expect(d.counts.queued).toBeGreaterThan(100);

    bench.graph.setDefault({ accept: true });
    const resumed = await bench.t.request(`${BASE}/${id}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);
    expect((await json(resumed)).pause_reason).toBeNull();
    await waitFor(async () => (await detail(bench as Bench, id)).state === 'completed', 30_000, 20);
    // Every recipient was sent to exactly once across the pause.
    const to = bench.graph.requests.map((r) => (r.body as { to: string }).to);
    expect(to).toHaveLength(200);
    expect(new Set(to).size).toBe(200);
  }, 40_000);

  it('pauses when more than pause_error_rate of the last sends failed, though never 5 in a row', async () => {
    bench = await fastBench({ pause_after_errors: 5, pause_error_rate: 0.2 });
    // Every third recipient is refused: 33% of sends fail, never two in a row.
    for (let i = 2; i < 300; i += 3) bench.graph.forRecipient(number(i), { error: 132001 });
    const id = await started(bench, 300, 20);
    const d = await paused(bench, id);
    expect(d.pause_reason).toMatch(
      /^\d+ of the last \d+ sends failed permanently \(\d+(\.\d)?%, above campaigns\.pause_error_rate of 20%\)$/,
    );
    expect(d.failures[0]).toMatchObject({ code: 132001, title: 'Template does not exist' });
    expect(d.counts.queued).toBeGreaterThan(0);
  }, 40_000);

  it('pauses when the template turns PAUSED; resume is refused until it is APPROVED again', async () => {
    bench = await fastBench();
    const id = await started(bench, 100, 5);
    await waitFor(async () => (await detail(bench as Bench, id)).counts.sent > 0, 20_000, 20);
    await deliver(
      bench.t,
      templateChange('message_template_status_update', {
        event: 'PAUSED',
        reason: 'LOW_QUALITY',
        ...templateIds,
      }),
    );
    const d = await paused(bench, id);
    expect(d.pause_reason).toBe('template order_shipped (pt_BR) is PAUSED: LOW_QUALITY');

    const refused = await bench.t.request(`${BASE}/${id}/resume`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect((await json(refused)).error).toMatchObject({
      code: 'template_not_approved',
      message: expect.stringMatching(/^cannot resume: template order_shipped \(pt_BR\) is PAUSED/),
    });

    await deliver(
      bench.t,
      signed({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            time: LATER + 60,
            changes: [
              { field: 'message_template_status_update', value: { event: 'APPROVED', ...templateIds } },
            ],
          },
        ],
      }),
    );
    expect((await bench.t.request(`${BASE}/${id}/resume`, { method: 'POST' })).status).toBe(200);
  }, 40_000);

  it('pauses when the template quality turns RED (quality webhook)', async () => {
    bench = await fastBench();
    const id = await started(bench, 100, 5);
    const quality = templateChange('message_template_quality_update', {
      previous_quality_score: 'GREEN',
      new_quality_score: 'RED',
      ...templateIds,
    });
    await deliver(bench.t, quality, quality);
    const d = await paused(bench, id);
    expect(d.pause_reason).toBe('template order_shipped (pt_BR) has quality RED');
    expect(one(bench.t, 'select status, quality from templates')).toEqual({
      status: 'APPROVED',
      quality: 'RED',
    });
  }, 40_000);
});

describe('outcome window', () => {
  const t = { pause_after_errors: 3, pause_error_rate: 0.2 };
  it('counts the trailing run and the rate once 20 sends were made', () => {
    expect(failureVerdict('0111', t)).toMatch(/^3 sends in a row/);
    expect(failureVerdict('011', t)).toBeNull();
    expect(failureVerdict('1001001001001001001', t)).toBeNull(); // 19 sends: too few for a rate
    expect(failureVerdict('10010010010010010010', t)).toMatch(/^7 of the last 20 sends/);
    expect(failureVerdict('00001000010000100001', t)).toBeNull(); // exactly 20%: not above
  });

  it('keeps the last 100 and turns a late failure into a 1 at its own send', () => {
    let w = { recent: '', sendsRecorded: 0 };
    for (let i = 0; i < 150; i++) {
      const next = appendOutcome(w, false);
      w = { recent: next.recent, sendsRecorded: w.sendsRecorded + 1 };
    }
    expect(w.recent).toHaveLength(100);
    expect(markLateFailure(w, 149).endsWith('001')).toBe(true);
    expect(markLateFailure(w, 148).endsWith('010')).toBe(true);
    expect(markLateFailure(w, 50).startsWith('100')).toBe(true); // the oldest still kept
    expect(markLateFailure(w, 10)).toBe(w.recent); // fell out of the window
  });
});
