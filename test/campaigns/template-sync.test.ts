// SPEC §14 templates and the messaging limit against the fake Graph API: the sync follows every page
// (on start, on its schedule, on the sync_templates recovery action), an error or garbage keeps the
// last good cache and says why, a campaign starts only on an approved template in its language, and
// the messaging limit (configured or read from the phone number) refuses or schedules a start.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { one } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, fixture } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const TEMPLATES = '/api/extensions/native-whatsapp/runtime/templates';
const RECOVERY = '/api/extensions/native-whatsapp/management/recovery';
const WABA = '102290129340398';
const DAY = 24 * 3_600_000;

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

const meta = (name: string, language: string, status = 'APPROVED', quality = 'GREEN') => ({
  id: `${name.length}${language.length}0001`,
  name,
  language,
  status,
  category: 'MARKETING',
  quality_score: { score: quality, date: 1767622200 },
  components: [{ type: 'BODY', text: 'Hello {{1}}' }],
});

const FIVE = [
  meta('autumn_sale', 'en'),
  meta('autumn_sale', 'pt_BR', 'APPROVED', 'YELLOW'),
  meta('order_shipped', 'pt_BR'),
  meta('restock', 'en', 'REJECTED', 'UNKNOWN'),
  meta('winter_sale', 'en', 'PAUSED', 'RED'),
];

async function syncBench(config: Record<string, unknown> = {}): Promise<Bench> {
  const b = await startBench({
    config: {
      outbound: { rate_per_second: 1000, concurrency: 8 },
      ...config,
      channels: { waba_id: WABA, ...((config.channels as object) ?? {}) },
    },
  });
  b.graph.setTemplates(FIVE, 2);
  return b;
}

const sync = async (b: Bench) => json(await b.t.request(RECOVERY, { body: { action: 'sync_templates' } }));
const templates = async (b: Bench) => json(await b.t.request(`${TEMPLATES}?limit=100`));
const agentUuid = (b: Bench) => one<{ uuid: string }>(b.t, 'select uuid from agents limit 1').uuid;

async function create(b: Bench, template: { name: string; language: string }, n: number, extra = {}) {
  return b.t.request(BASE, {
    body: {
      name: 'Promo',
      agent_uuid: agentUuid(b),
      template,
      recipients: Array.from({ length: n }, (_, i) => ({ wa_id: `5531900000${String(i).padStart(3, '0')}` })),
      rate_per_second: 10,
      ...extra,
    },
  });
}

describe('template sync', () => {
  it('runs on start and follows every page; the templates route lists name, language, category, status, quality', async () => {
    bench = await syncBench();
    // The start-up sync ran against an empty list or the five, whichever it met first.
    await waitFor(
      async () => bench?.graph.reads.some((r) => r.path.includes('/message_templates')) ?? false,
      10_000,
      20,
    );
    const before = bench.graph.reads.length;
    const out = await sync(bench);
    expect(out).toMatchObject({ action: 'sync_templates', counts: { synced: 5, failed: 0 } });
    const pages = bench.graph.reads.slice(before).filter((r) => r.path.includes('/message_templates'));
    expect(pages.map((r) => new URL(r.path, 'http://x').searchParams.get('after'))).toEqual([null, '2', '4']);
    expect(pages[0]?.path).toMatch(new RegExp(`^/v24\\.0/${WABA}/message_templates\\?fields=`));
    expect(pages.every((r) => r.authorization === 'Bearer EAAtest_access_token_0123456789')).toBe(true);

    const body = await templates(bench);
    expect(body.items).toHaveLength(5);
    expect(body.items[1]).toMatchObject({
      name: 'autumn_sale',
      language: 'pt_BR',
      category: 'MARKETING',
      status: 'APPROVED',
      quality: 'YELLOW',
    });
    expect(body.items[4]).toMatchObject({ name: 'winter_sale', status: 'PAUSED', quality: 'RED' });
    expect(body.sync).toMatchObject({ state: 'ok', reason: null, templates: 5 });
    // The components come along, for the dashboard's template picker (its text and parameters).
    expect(pages[0]?.path).toContain('components');
    expect(
      one<{ components: string }>(bench.t, "select components from templates where name = 'restock'")
        .components,
    ).toBe('[{"type":"BODY","text":"Hello {{1}}"}]');

    // Pages of the route itself.
    const first = await json(await bench.t.request(`${TEMPLATES}?limit=2`));
    const second = await json(await bench.t.request(`${TEMPLATES}?limit=2&cursor=${first.next_cursor}`));
    expect(second.items.map((t: { name: string }) => t.name)).toEqual(['order_shipped', 'restock']);
  }, 30_000);

  it('runs again every scheduler.template_sync_every', async () => {
    bench = await syncBench({ scheduler: { template_sync_every: '1s' } });
    await waitFor(
      async () => (bench?.graph.reads.filter((r) => r.path.includes('after=4')).length ?? 0) >= 2,
      15_000,
      50,
    );
  }, 30_000);

  it('keeps the last good cache when Meta answers an error, garbage or a foreign next page, and says why', async () => {
    bench = await syncBench();
    expect((await sync(bench)).counts.synced).toBe(5);
    const good = (await templates(bench)).items;

    bench.graph.nextRead({ error: 2 });
    const failed = await sync(bench);
    expect(failed).toMatchObject({ counts: { synced: 0, failed: 1 } });
    expect(failed.reason).toMatch(/^the Graph API answered HTTP 503 \(code 2\)/);
    let body = await templates(bench);
    expect(body.items).toEqual(good);
    expect(body.sync).toMatchObject({ state: 'failed', templates: 5, reason: failed.reason });
    expect(body.sync.last_success_at).not.toBeNull();

    // The second page is not JSON: nothing of the first page is written either.
    bench.graph.setTemplates([meta('only_one', 'en'), ...FIVE.slice(1)], 1);
    bench.graph.nextRead({ accept: true }, { raw: { status: 200, body: '<html>oops</html>' } });
    expect((await sync(bench)).reason).toBe(
      'the Graph API answered HTTP 200 with something that is not JSON',
    );
    expect((await templates(bench)).items).toEqual(good);

    bench.graph.nextRead({
      raw: { status: 200, body: '{"data":[{"name":"x"}]}', contentType: 'application/json' },
    });
    expect((await sync(bench)).reason).toBe(
      'page 1, template 0: language Invalid input: expected string, received undefined',
    );

    bench.graph.nextRead({
      raw: {
        status: 200,
        body: JSON.stringify({ data: [], paging: { next: 'https://evil.example/v24.0/x?after=1' } }),
        contentType: 'application/json',
      },
    });
    const listings = () => (bench as Bench).graph.reads.filter((r) => r.path.includes('/message_templates'));
    const before = listings().length;
    expect((await sync(bench)).reason).toBe('page 1: paging.next points to another host (evil.example)');
    expect(listings().length - before).toBe(1);
    body = await templates(bench);
    expect(body.items).toEqual(good);
  }, 30_000);

  it('a campaign starts only on a template approved in its language', async () => {
    bench = await syncBench();
    await sync(bench);
    const wrongLanguage = await create(bench, { name: 'order_shipped', language: 'en' }, 2);
    expect(wrongLanguage.status).toBe(400);
    expect((await json(wrongLanguage)).error.code).toBe('template_not_found');
    expect((await create(bench, { name: 'restock', language: 'en' }, 2)).status).toBe(400);

    const ok = await json(await create(bench, { name: 'autumn_sale', language: 'en' }, 2));
    // Meta rejects it before the start: the next sync says so.
    bench.graph.setTemplates([meta('autumn_sale', 'en', 'REJECTED'), ...FIVE.slice(1)], 2);
    await sync(bench);
    const start = await bench.t.request(`${BASE}/${ok.id}/start`, { method: 'POST' });
    expect(start.status).toBe(400);
    expect((await json(start)).error.code).toBe('template_not_found');
  }, 30_000);
});

describe('messaging limit', () => {
  it('refuses a start with the numbers when queued campaigns hold what is left', async () => {
    bench = await syncBench({ channels: { messaging_limit: 3 } });
    await deliver(bench.t, fixture('field_message_template_status_approved.json'));
    const T = { name: 'order_shipped', language: 'pt_BR' };
    const a = await json(await create(bench, T, 3, { start_at: '2027-01-01T00:00:00Z' }));
    expect((await bench.t.request(`${BASE}/${a.id}/start`, { method: 'POST' })).status).toBe(200);
    const b = await json(await create(bench, T, 2));
    // The draft's forecast: nothing left today, so a day from now plus its own sending time.
    expect((await json(await bench.t.request(`${BASE}/${b.id}`))).eta).toBe(
      new Date(bench.t.clock.now() + DAY + 200).toISOString(),
    );
    const res = await bench.t.request(`${BASE}/${b.id}/start`, { method: 'POST' });
    expect(res.status).toBe(409);
    const err = (await json(res)).error;
    expect(err.code).toBe('messaging_limit_reached');
    expect(err.details).toEqual({
      recipients: 2,
      messaging_limit: 3,
      used_24h: 0,
      queued_in_other_campaigns: 3,
      left: 0,
    });
    expect(err.message).toMatch(/has 0 left .* 3 queued in other running or scheduled campaigns/);
  }, 30_000);

  it('schedules a start for when enough sends are 24 hours old', async () => {
    bench = await syncBench({ channels: { messaging_limit: 3 } });
    await deliver(bench.t, fixture('field_message_template_status_approved.json'));
    const T = { name: 'order_shipped', language: 'pt_BR' };
    const a = await json(await create(bench, T, 3));
    expect((await bench.t.request(`${BASE}/${a.id}/start`, { method: 'POST' })).status).toBe(200);
    await waitFor(
      async () => (await json(await (bench as Bench).t.request(`${BASE}/${a.id}`))).state === 'completed',
      20_000,
      20,
    );
    const sentAt = bench.t.clock.now(); // the fake clock did not move: all three went out "now"
    bench.t.clock.advance(3_600_000);
    const b = await json(await create(bench, T, 2));
    const res = await bench.t.request(`${BASE}/${b.id}/start`, { method: 'POST' });
    expect(res.status).toBe(200);
    const started = await json(res);
    expect(started.state).toBe('scheduled');
    expect(started.start_at).toBe(new Date(sentAt + DAY).toISOString());
    expect(started.schedule_reason).toMatch(
      /^the campaign has 2 recipients but the messaging limit of 3 customers per 24 hours has 0 left \(3 customers sent to in the last 24 hours, 0 queued .*\); scheduled for /,
    );
  }, 30_000);

  it('reads the limit from the phone number when none is configured', async () => {
    bench = await syncBench();
    bench.graph.setPhoneNumber({ whatsapp_business_manager_messaging_limit: 'TIER_250' });
    await sync(bench);
    const phone = bench.graph.reads.find((r) => r.path.startsWith('/v24.0/106540352242922?fields='));
    expect(phone?.path).toContain('whatsapp_business_manager_messaging_limit');
    await deliver(bench.t, fixture('field_message_template_status_approved.json'));
    const res = await create(bench, { name: 'order_shipped', language: 'pt_BR' }, 251);
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({
      code: 'messaging_limit_exceeded',
      details: { recipients: 251, messaging_limit: 250 },
    });
  }, 30_000);
});
