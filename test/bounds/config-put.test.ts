// SPEC §9a bounds on `PUT .../management/config`: what a standard or root token may write.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const CONFIG = '/api/extensions/native-whatsapp/management/config';

describe('config PUT bounds', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  async function put(body: unknown, token = t.tokens.standard): Promise<{ status: number; body: Json }> {
    const res = await t.request(CONFIG, { method: 'PUT', body, token });
    return { status: res.status, body: await json(res) };
  }

  it('refuses a pattern the linear-time engine cannot compile, with its path, and stores nothing', async () => {
    const { status, body } = await put({
      version: 0,
      conversation_classes: [{ name: 'orders', match: { patterns: ['order(?=\\d)', '(ok)'] } }],
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((d: Json) => d.path)).toEqual(['conversation_classes.0.match.patterns.0']);
    expect(t.deps.config().conversation_classes).toEqual([]);
  });

  it('accepts a pattern a backtracking engine would hang on: it runs in linear time here', async () => {
    const { status } = await put({
      version: 0,
      conversation_classes: [{ name: 'orders', match: { patterns: ['.*.*.*.*=', '.*order.*status.*'] } }],
    });
    expect(status).toBe(200);
  });
});

describe('config size, history and rate', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({
      memory: true,
      // A body limit above the document limit, so the document limit is what answers.
      config: { server: { api_body_limit_bytes: 4 * 1024 * 1024 } },
    });
  });
  afterEach(async () => {
    await t.close();
  });
  const put = async (body: unknown, token = t.tokens.root) => {
    const res = await t.request(CONFIG, { method: 'PUT', body, token });
    return { status: res.status, body: await json(res), retryAfter: res.headers.get('retry-after') };
  };
  const version = async () => (await json(await t.request(CONFIG))).version as number;
  // ~90 KB per class list: 20 classes of 100 keywords of ~45 characters.
  const bulky = (tag: string, classes = 20) =>
    Array.from({ length: classes }, (_, i) => ({
      name: `c${i}`,
      match: { keywords: Array.from({ length: 100 }, (_, k) => `${tag}-${i}-${k}-${'x'.repeat(36)}`) },
    }));

  it('refuses a stored document over 1 MiB with 413 and keeps the current version', async () => {
    // Each list within its own schema maxima, ~1.3 MB together: only the document cap refuses it.
    const rules = Array.from({ length: 200 }, (_, i) => ({
      id: `r${i}`,
      keywords: ['k'],
      reply: 'y'.repeat(4096),
    }));
    const big = await put({ version: 0, responder: { rules }, conversation_classes: bulky('b', 100) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    expect(big.body.error.message).toMatch(/at most 1048576/);
    expect(await version()).toBe(0);
    // Half of it fits.
    expect((await put({ version: 0, responder: { rules: rules.slice(0, 100) } })).status).toBe(200);
  });

  it('keeps the last 200 versions or 90 days of history, whatever is more', async () => {
    const count = async () =>
      Number(
        (
          await t.deps.db
            .selectFrom('config_versions')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    // 210 changes within 90 days: all kept.
    for (let i = 0; i < 210; i++) {
      t.clock.advance(60_000);
      expect((await put({ version: await version(), escalation: { sla: `${i + 10}m` } })).status).toBe(200);
    }
    expect(await count()).toBe(before + 210);
    // 91 days later one more change prunes everything but the last 200.
    t.clock.advance(91 * 24 * 3_600_000);
    expect((await put({ version: await version(), escalation: { sla: '5m' } })).status).toBe(200);
    expect(await count()).toBe(200);
    const oldest = await t.deps.db
      .selectFrom('config_versions')
      .select((eb) => eb.fn.min('version').as('v'))
      .executeTakeFirstOrThrow();
    expect(Number(oldest.v)).toBe((await version()) - 199);
  });

  it('rate-limits PUT per token with 429 and Retry-After; another token is not affected', async () => {
    for (let i = 0; i < 30; i++) {
      expect((await put({ version: await version(), escalation: { sla: `${i + 10}m` } })).status).toBe(200);
    }
    const limited = await put({ version: await version(), escalation: { sla: '9m' } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(
      (await put({ version: await version(), escalation: { sla: '9m' } }, t.tokens.standard)).status,
    ).toBe(200);
    t.clock.advance(60_000);
    expect((await put({ version: await version(), escalation: { sla: '8m' } })).status).toBe(200);
  });
});

describe('durations', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  it.each(['14800000w', '366d', '53w'])(
    'a follow-up after %s is refused (durations are at most 365d)',
    async (after) => {
      const res = await t.request(CONFIG, {
        method: 'PUT',
        token: t.tokens.standard,
        body: { version: 0, follow_up_rules: [{ id: 'r', after, text: 'hi' }] },
      });
      expect(res.status).toBe(400);
      const err = (await json(res)).error;
      expect(err.details).toEqual([
        expect.objectContaining({ path: 'follow_up_rules.0.after', message: 'must be at most 365d' }),
      ]);
    },
  );

  it('365d is accepted', async () => {
    const res = await t.request(CONFIG, {
      method: 'PUT',
      token: t.tokens.standard,
      body: { version: 0, follow_up_rules: [{ id: 'r', after: '365d', text: 'hi' }] },
    });
    expect(res.status).toBe(200);
  });
});

describe('URLs with credentials', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  it.each([
    [
      'responder.openai.base_url',
      { responder: { openai: { base_url: 'http://me:hunter2pass@127.0.0.1:9/v1' } } },
    ],
    ['channels.api_base_url', { channels: { api_base_url: 'https://hunter2pass@graph.example.com' } }],
  ])('%s with credentials is refused with 400, the value never echoed nor logged', async (path, doc) => {
    const res = await t.request(CONFIG, { method: 'PUT', body: { version: 0, ...doc } });
    const text = await res.text();
    expect(res.status).toBe(400);
    const err = JSON.parse(text).error;
    expect(err.details.map((d: Json) => d.path)).toEqual([path]);
    expect(text).not.toContain('hunter2pass');
    expect(t.logText()).not.toContain('hunter2pass');
    expect((await json(await t.request(CONFIG, { token: t.tokens.standard }))).version).toBe(0);
  });

  it('a plain URL is accepted', async () => {
    const res = await t.request(CONFIG, {
      method: 'PUT',
      body: { version: 0, responder: { openai: { base_url: 'http://127.0.0.1:9/v1' } } },
    });
    expect(res.status).toBe(200);
  });
});
