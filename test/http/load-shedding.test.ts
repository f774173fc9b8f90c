import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import type { AppEnv } from '../../src/http/env.js';
import { renderError } from '../../src/http/errors.js';
import { loadShedding } from '../../src/http/middleware/load-shedding.js';
import { AppError } from '../../src/lib/app-error.js';
import { FakeClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture, post, WEBHOOK } from '../webhook/deliveries.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A request whose body stays open until `finish()`: it is in flight for as long as the test wants. */
function hangingRequest(app: TestApp, path: string, headers: Record<string, string>) {
  let close!: (text: string) => void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      close = (text) => {
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      };
    },
  });
  const request = new Request(`http://localhost${path}`, {
    method: 'POST',
    headers,
    body,
    duplex: 'half',
  } as RequestInit);
  const response = Promise.resolve(app.daemon.app.app.request(request));
  return { response, finish: (text: string) => close(text) };
}

function apiHanging(app: TestApp) {
  return hangingRequest(app, '/api/agents', {
    authorization: `Bearer ${app.tokens.root}`,
    'content-type': 'application/json',
  });
}

function webhookHanging(app: TestApp) {
  const f = fixture('msg_text_plain.json');
  const hanging = hangingRequest(app, WEBHOOK, {
    'content-type': 'application/json',
    'x-hub-signature-256': f.signature,
  });
  return { ...hanging, finish: () => hanging.finish(f.body.toString('utf8')) };
}

async function pendingRows(app: TestApp): Promise<number> {
  return inboxRepo.countInState(app.deps.db, 'pending');
}

async function addPendingRows(app: TestApp, n: number): Promise<void> {
  const now = app.clock.now();
  await inboxRepo.insertMany(
    app.deps.db,
    Array.from({ length: n }, (_, i) => ({
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
}

describe('load shedding: requests in flight', () => {
  it('an API request past api_max_in_flight gets 429 with Retry-After and the error envelope', async () => {
    t = await createTestApp({ config: { load: { api_max_in_flight: 1, retry_after: '3s' } } });
    const first = apiHanging(t);
    const res = await t.request('/api/agents');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    const body = await json(res);
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/limit of 1 request/);
    expect(body.error.request_id).toEqual(expect.any(String));
    first.finish(JSON.stringify({ name: 'first' }));
    expect((await first.response).status).toBe(201);
  });

  it('a webhook past webhook_max_in_flight gets 503 with Retry-After and nothing is stored', async () => {
    t = await createTestApp({ config: { load: { webhook_max_in_flight: 1 } } });
    const first = webhookHanging(t);
    const res = await post(t, fixture('msg_text_emoji.json'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await json(res)).error.code).toBe('overloaded');
    expect(await t.deps.db.selectFrom('inbox').select('id').execute()).toHaveLength(0);
    first.finish();
    expect((await first.response).status).toBe(200);
    expect(await t.deps.db.selectFrom('inbox').select('id').execute()).toHaveLength(1);
  });

  it('a finished request frees its slot, whatever its answer was', async () => {
    t = await createTestApp({ config: { load: { webhook_max_in_flight: 1, api_max_in_flight: 1 } } });
    // Refused answers (401, 400) must release the slot as a 200 does.
    expect((await post(t, { body: '{}', signature: null })).status).toBe(401);
    expect((await t.request('/api/agents', { body: { nope: 1 } })).status).toBe(400);
    expect((await post(t, fixture('msg_text_plain.json'))).status).toBe(200);
    expect((await t.request('/api/agents')).status).toBe(200);
  });

  it('the webhook and the API have separate limits', async () => {
    t = await createTestApp({ config: { load: { webhook_max_in_flight: 1, api_max_in_flight: 1 } } });
    const hook = webhookHanging(t);
    expect((await t.request('/api/agents')).status).toBe(200);
    const api = apiHanging(t);
    expect((await post(t, fixture('msg_text_emoji.json'))).status).toBe(503);
    expect((await t.request('/api/agents')).status).toBe(429);
    hook.finish();
    api.finish(JSON.stringify({ name: 'second' }));
    expect((await hook.response).status).toBe(200);
    expect((await api.response).status).toBe(201);
  });

  it('health, readiness and metrics are never shed', async () => {
    t = await createTestApp({ config: { load: { webhook_max_in_flight: 1, api_max_in_flight: 1 } } });
    const hook = webhookHanging(t);
    const api = apiHanging(t);
    expect((await t.request('/healthz', { token: null })).status).toBe(200);
    expect((await t.request('/readyz', { token: null })).status).toBe(200);
    expect((await t.request('/metrics')).status).toBe(200);
    hook.finish();
    api.finish(JSON.stringify({ name: 'third' }));
    await Promise.all([hook.response, api.response]);
  });

  it('shed requests are counted in /metrics by surface and reason', async () => {
    t = await createTestApp({ config: { load: { api_max_in_flight: 1 } } });
    const api = apiHanging(t);
    await t.request('/api/agents');
    await t.request('/api/agents');
    api.finish(JSON.stringify({ name: 'fourth' }));
    await api.response;
    const text = await (await t.request('/metrics')).text();
    expect(text).toMatch(/nwa_http_shed_total\{surface="api",reason="in_flight",instance_id="[^"]+"\} 2/);
  });

  it('logs when shedding starts and when it stops, not once per request', async () => {
    t = await createTestApp({ config: { load: { api_max_in_flight: 1 } } });
    const api = apiHanging(t);
    for (let i = 0; i < 5; i++) await t.request('/api/agents');
    api.finish(JSON.stringify({ name: 'fifth' }));
    await api.response;
    await t.request('/api/agents');
    await t.request('/api/agents');
    const events = t.logs().map((l) => l.event);
    expect(events.filter((e) => e === 'load.shedding')).toHaveLength(1);
    expect(events.filter((e) => e === 'load.recovered')).toHaveLength(1);
  });
});

describe('load shedding: inbox backlog', () => {
  const backlog = { inbox: { backlog_threshold: 2 }, load: { backlog_shed_factor: 2, retry_after: '5s' } };

  it('a delivery is refused with 503 and Retry-After while the backlog is over threshold × factor', async () => {
    t = await createTestApp({ config: backlog });
    await addPendingRows(t, 5);
    const res = await post(t, fixture('msg_text_plain.json'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = await json(res);
    expect(body.error.code).toBe('overloaded');
    expect(body.error.details).toEqual({ reason: 'backlog' });
    expect(await pendingRows(t)).toBe(5);
  });

  it('a backlog at exactly threshold × factor still accepts deliveries', async () => {
    t = await createTestApp({ config: backlog });
    await addPendingRows(t, 4);
    expect((await post(t, fixture('msg_text_plain.json'))).status).toBe(200);
  });

  it('deliveries are accepted again once the backlog is processed and recounted', async () => {
    t = await createTestApp({ config: backlog });
    await addPendingRows(t, 5);
    expect((await post(t, fixture('msg_text_plain.json'))).status).toBe(503);
    await t.deps.db.updateTable('inbox').set({ state: 'processed' }).execute();
    // The count is cached for a second of the clock, so a burst of deliveries costs one query.
    expect((await post(t, fixture('msg_text_plain.json'))).status).toBe(503);
    t.clock.advance(1000);
    expect((await post(t, fixture('msg_text_plain.json'))).status).toBe(200);
  });

  it('the backlog never sheds the API or the verification handshake', async () => {
    t = await createTestApp({ config: backlog });
    await addPendingRows(t, 50);
    expect((await t.request('/api/agents')).status).toBe(200);
    const res = await t.request(
      `${WEBHOOK}?hub.mode=subscribe&hub.verify_token=test_verify_token_123&hub.challenge=42`,
      { token: null },
    );
    expect(res.status).toBe(200);
  });
});

describe('load shedding: event loop delay', () => {
  /** The middleware alone on a bare app, with the delay under the test's control. */
  function appWithDelay(delay: { ms: number }) {
    const config = resolveConfig([
      { name: 'test', document: { load: { max_event_loop_delay_ms: 100 } } },
    ]).config;
    const app = new Hono<AppEnv>();
    app.onError((err, c) => (err instanceof AppError ? renderError(c, err) : c.text('bug', 500)));
    app.use(
      '*',
      loadShedding('webhook', {
        config: () => config,
        clock: new FakeClock(),
        logger: createLogger({ level: 'silent', format: 'json' }),
        metrics: createMetrics(),
        eventLoopDelay: () => delay.ms,
      }),
    );
    app.post('/', (c) => c.text('ok'));
    return app;
  }

  it.each([
    [0, 200],
    [100, 200],
    [101, 503],
    [5000, 503],
  ])('a loop %d ms behind (limit 100) answers %d', async (ms, status) => {
    const res = await appWithDelay({ ms }).request('/', { method: 'POST' });
    expect(res.status).toBe(status);
    if (status === 503) {
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await json(res)).toMatchObject({
        error: { code: 'overloaded', details: { reason: 'event_loop_delay' } },
      });
    }
  });

  /** Keeps the event loop busy (real time is the point here), yielding briefly between stalls. */
  async function stall(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // busy: timers cannot run
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  it('a daemon whose event loop keeps running late sheds, and serves again once it catches up', async () => {
    t = await createTestApp({ config: { load: { max_event_loop_delay_ms: 50 } } });
    const app = t;
    let shed: Response | undefined;
    const deadline = performance.now() + 5000;
    while (!shed && performance.now() < deadline) {
      await stall(120);
      const res = await app.request('/api/agents');
      if (res.status === 429) shed = res;
    }
    expect(shed, 'never shed while the loop ran late').toBeDefined();
    expect((await json(shed as Response)).error.details).toEqual({ reason: 'event_loop_delay' });
    await waitFor(async () => (await app.request('/api/agents')).status === 200, 5000, 50);
  });
});

describe('load settings', () => {
  it('have defaults and appear in the management config', async () => {
    t = await createTestApp();
    const body = await json(await t.request('/api/extensions/native-whatsapp/management/config'));
    expect(body.load).toEqual({
      webhook_max_in_flight: 256,
      api_max_in_flight: 128,
      max_event_loop_delay_ms: null,
      backlog_shed_factor: 20,
      retry_after: '1s',
    });
  });

  it('only a root token may change them', async () => {
    t = await createTestApp();
    const path = '/api/extensions/native-whatsapp/management/config';
    const { version } = await json(await t.request(path));
    const change = { version, load: { api_max_in_flight: 10 } };
    const denied = await t.request(path, { method: 'PUT', body: change, token: t.tokens.standard });
    expect(denied.status).toBe(403);
    const allowed = await t.request(path, { method: 'PUT', body: change, token: t.tokens.root });
    expect(allowed.status).toBe(200);
    expect(t.deps.config().load.api_max_in_flight).toBe(10);
  });
});
