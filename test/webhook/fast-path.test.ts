// POST /webhooks/whatsapp over a real listening daemon, where a clean delivery is stored and answered
// by the raw listener's fast path (http/webhook-fast-path.ts) and everything else by the app: the
// answers, the stored rows, the counters and the guards must be those of the app's route (ingress.test.ts
// drives the same contract through app.request(), which never sees the raw listener).
import { createHash } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { sqliteHandle } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { rows } from '../inbox/db-view.js';
import { fixture, post, signed, WEBHOOK } from './deliveries.js';

let t: TestApp | undefined;
afterEach(async () => {
  if (t?.engine === 'sqlite') chmodSync(sqliteHandle(t.deps.database).path, 0o644);
  await t?.close();
  t = undefined;
});

interface InboxRowView {
  id: string;
  body: string;
  delivery_hash: string;
  state: string;
  last_error: string | null;
}

const inbox = (app: TestApp) => rows<InboxRowView>(app, 'select * from inbox order by id');

/** Over the socket, as Meta sends it. */
function send(
  app: TestApp,
  d: { body: Buffer | string; signature?: string | null },
  headers: Record<string, string> = {},
  path = WEBHOOK,
): Promise<Response> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (d.signature) h['x-hub-signature-256'] = d.signature;
  return fetch(`${app.daemon.url}${path}`, { method: 'POST', headers: h, body: d.body });
}

async function metric(app: TestApp, name: string, labels: string): Promise<number> {
  const text = (await app.deps.metrics.render()).replace(/,?instance_id="[^"]*"/g, '').replace(/\{,/g, '{');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a clean delivery over the socket', () => {
  it('is answered 200 with the app route’s answer after its raw bytes are committed', async () => {
    t = await createTestApp({ listen: true });
    const f = fixture('msg_text_plain.json');
    const res = await send(t, f);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const answer = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(answer).sort()).toEqual(['inbox_id', 'status']);
    expect(answer.status).toBe('received');
    // Committed before the answer: read at once, from the store.
    const stored = await inboxRepo.get(t.deps.db, answer.inbox_id as string);
    expect(stored?.state === 'pending' || stored?.state === 'processed').toBe(true);
    const row = inbox(t)[0] as InboxRowView;
    expect(row.id).toBe(answer.inbox_id);
    expect(Buffer.from(row.body, 'utf8').equals(f.body)).toBe(true);
    expect(row.delivery_hash).toBe(createHash('sha256').update(f.body).digest('hex'));
    // Same shape as through the app.
    const viaApp = (await (await post(t, f)).json()) as Record<string, unknown>;
    expect(Object.keys(viaApp).sort()).toEqual(Object.keys(answer).sort());
  });

  it('carries a request id: the caller’s when it is sane, else a new one', async () => {
    t = await createTestApp({ listen: true });
    const f = fixture('msg_text_plain.json');
    const given = await send(t, f, { 'x-request-id': 'meta-trace.42' });
    expect(given.status).toBe(200);
    expect(given.headers.get('x-request-id')).toBe('meta-trace.42');
    const insane = await send(t, f, { 'x-request-id': 'no spaces <allowed>' });
    expect(insane.status).toBe(200);
    const id = insane.headers.get('x-request-id') ?? '';
    expect(id).not.toBe('no spaces <allowed>');
    expect(id).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  });

  it('is counted like the app route counts it (received total and the latency histogram)', async () => {
    t = await createTestApp({ listen: true });
    const f = fixture('msg_text_plain.json');
    for (let i = 0; i < 3; i++) expect((await send(t, f)).status).toBe(200);
    expect(await metric(t, 'nwa_webhooks_received_total', 'state="pending"')).toBe(3);
    expect(
      await metric(
        t,
        'nwa_http_request_duration_seconds_count',
        'method="POST",route="/webhooks/whatsapp",status="200"',
      ),
    ).toBe(3);
  });

  it('has its access line at debug level; a refused delivery’s stays info', async () => {
    t = await createTestApp({ listen: true });
    expect((await send(t, fixture('msg_text_plain.json'))).status).toBe(200);
    expect((await send(t, { body: '{}', signature: `sha256=${'0'.repeat(64)}` })).status).toBe(401);
    const lines = t.logs().filter((l) => l.event === 'http.request' && l.path === WEBHOOK);
    expect(lines.map((l) => [l.status, l.level])).toEqual([
      [200, 'debug'],
      [401, 'info'],
    ]);
    expect(lines.every((l) => typeof l.request_id === 'string')).toBe(true);
  });
});

describe('anything but a clean delivery gets the app’s answer over the socket', () => {
  it('401 for a missing or wrong signature, nothing stored', async () => {
    t = await createTestApp({ listen: true });
    const f = fixture('msg_text_plain.json');
    const missing = await send(t, { body: f.body });
    expect(missing.status).toBe(401);
    const wrong = await send(t, { body: f.body, signature: signed('{"x":1}').signature });
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as { error: { code: string; request_id?: string } };
    expect(body.error.code).toBe('invalid_signature');
    expect(body.error.request_id).toBe(wrong.headers.get('x-request-id'));
    expect(inbox(t)).toHaveLength(0);
  });

  it('400 for a signed body that is not JSON or not a WABA delivery, stored as rejected', async () => {
    t = await createTestApp({ listen: true });
    expect((await send(t, signed('not json'))).status).toBe(400);
    expect((await send(t, signed({ object: 'page', entry: [] }))).status).toBe(400);
    expect(inbox(t).map((r) => r.state)).toEqual(['rejected', 'rejected']);
  });

  it('413 over the body limit, nothing stored', async () => {
    t = await createTestApp({ listen: true, config: { server: { webhook_body_limit_bytes: 65536 } } });
    const big = signed({ object: 'whatsapp_business_account', entry: [{ pad: 'x'.repeat(70_000) }] });
    expect((await send(t, big)).status).toBe(413);
    expect(inbox(t)).toHaveLength(0);
  });

  it('a path with a query string is still the webhook', async () => {
    t = await createTestApp({ listen: true });
    const res = await send(t, fixture('msg_text_plain.json'), {}, `${WEBHOOK}?from=meta`);
    expect(res.status).toBe(200);
    expect(inbox(t)).toHaveLength(1);
  });
});

describe('the guards hold over the socket', () => {
  it('503 with Retry-After while the inbox backlog is over its bound, nothing stored', async () => {
    t = await createTestApp({
      listen: true,
      config: { inbox: { backlog_threshold: 1 }, load: { backlog_shed_factor: 1, retry_after: '5s' } },
    });
    const now = t.clock.now();
    await inboxRepo.insertMany(
      t.deps.db,
      [0, 1].map((i) => ({
        id: `01BACKLOG${String(i).padStart(17, '0')}`,
        received_at: now,
        body: '{}',
        delivery_hash: `backlog-${i}`,
        state: 'pending' as const,
        attempts: 0,
        // Not due yet, so the running processor leaves them waiting.
        next_attempt_at: now + 3_600_000,
        last_error: null,
        processed_at: null,
      })),
    );
    const res = await send(t, fixture('msg_text_plain.json'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { error: { code: string; details: unknown } };
    expect(body.error.code).toBe('overloaded');
    expect(body.error.details).toEqual({ reason: 'backlog' });
    expect(inbox(t)).toHaveLength(2);
  });

  it('503 with Retry-After while the database cannot be written, like the app; 200 again after', async (ctx) => {
    t = await createTestApp({ listen: true });
    if (t.engine !== 'sqlite') return ctx.skip();
    const f = fixture('msg_text_plain.json');
    const file = sqliteHandle(t.deps.database).path;
    chmodSync(file, 0o444);
    await t.deps.writability.probe();
    const res = await send(t, f);
    const viaApp = await post(t, f);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { error: { code: string; request_id: string } };
    const appBody = (await viaApp.json()) as { error: { code: string } };
    expect(viaApp.status).toBe(503);
    expect(body.error.code).toBe(appBody.error.code);
    expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
    expect(inbox(t)).toHaveLength(0);
    chmodSync(file, 0o644);
    await t.deps.writability.probe();
    expect((await send(t, f)).status).toBe(200);
  });
});
