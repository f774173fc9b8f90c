import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const CONFIG = '/api/extensions/native-whatsapp/management/config';
const VERSIONS = `${CONFIG}/versions`;
const AUDIT = '/api/extensions/native-whatsapp/management/audit';
const ACCESS_TOKEN = 'EAAG-test-access-token-9f8e7d6c';
const OPENAI_KEY = 'sk-test-openai-key-1a2b3c4d';
const NEW_ACCESS_TOKEN = 'EAAG-rotated-access-token-0000';

const RULE = { id: 'gentle-check-in', after: '4h', text: 'Anything else we can help with?' };

describe('management config API', () => {
  let t: TestApp;
  let bodies: string[];

  beforeEach(async () => {
    bodies = [];
    t = await createTestApp({
      memory: true,
      config: {
        channels: { access_token: ACCESS_TOKEN, phone_number_id: '106540352242922' },
        responder: { openai: { base_url: 'http://127.0.0.1:9/v1', model: 'llama3', api_key: OPENAI_KEY } },
      },
    });
  });
  afterEach(async () => {
    // Secrets never appear in any answer, error or not.
    for (const b of bodies) {
      for (const secret of [ACCESS_TOKEN, OPENAI_KEY, NEW_ACCESS_TOKEN, t.tokens.root, t.tokens.standard]) {
        expect(b).not.toContain(secret);
      }
    }
    await t.close();
  });

  async function call(
    method: 'GET' | 'PUT',
    url: string,
    opts: { body?: unknown; token?: string | null } = {},
  ): Promise<{ status: number; body: Json }> {
    const res = await t.request(url, { method, body: opts.body, token: opts.token });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
  const get = (token?: string | null) =>
    call('GET', CONFIG, { token: token === undefined ? t.tokens.standard : token });
  const put = (body: unknown, token?: string) =>
    call('PUT', CONFIG, { body, token: token ?? t.tokens.standard });

  describe('GET', () => {
    it('returns the effective document with version, runtime and redacted credentials', async () => {
      const { status, body } = await get();
      expect(status).toBe(200);
      expect(body).toMatchObject({
        version: 0,
        schema_version: 1,
        runtime: { status: 'active', automation_mode: 'assisted', access_tier: 'standard' },
        conversation_classes: [],
        follow_up_rules: [],
        quiet_hours: null,
        escalation: { sla: '15m', unanswered_messages: 3 },
        responder: {
          kind: 'rules',
          rules: [],
          openai: { api_key: '[redacted]', model: 'llama3', timeout: '8s' },
        },
        channels: {
          access_token: '[redacted]',
          app_secret: '[redacted]',
          verify_token: '[redacted]',
          phone_number_id: '106540352242922',
        },
        outbound: { rate_per_second: 20, retry_max_delay: '15m' },
        retention: { raw_webhooks: '30d' },
      });
      expect(Object.keys(body).slice(0, 2)).toEqual(['version', 'schema_version']);
    });

    it('shows an unset credential as null', async () => {
      const other = await createTestApp({ memory: true });
      try {
        const res = await other.request(CONFIG, { token: other.tokens.standard });
        expect((await json(res)).channels.access_token).toBeNull();
      } finally {
        await other.close();
      }
    });

    it('answers 401 without a token', async () => {
      expect((await get(null)).status).toBe(401);
    });
  });

  describe('PUT by a standard token', () => {
    it('changes behaviour rules, stores version 1 and answers the new effective config', async () => {
      const { status, body } = await put({
        version: 0,
        follow_up_rules: [RULE],
        quiet_hours: { start: '21:00', end: '08:00', timezone: 'Europe/Berlin' },
        runtime: { automation_mode: 'priority' },
      });
      expect(status).toBe(200);
      expect(body.version).toBe(1);
      expect(body.follow_up_rules).toEqual([{ ...RULE, max_per_conversation: 1 }]);
      expect(body.runtime.automation_mode).toBe('priority');
      expect(body.channels.access_token).toBe('[redacted]');
      expect((await get()).body).toEqual(body);
    });

    it('takes effect live: deps.config() returns the new values', async () => {
      expect(t.deps.config().follow_up_rules).toEqual([]);
      await put({ version: 0, follow_up_rules: [RULE], escalation: { sla: '30m' } });
      expect(t.deps.config().follow_up_rules[0]?.after).toBe(4 * 3_600_000);
      expect(t.deps.config().escalation.sla).toBe(30 * 60_000);
    });

    it('answers 409 version_conflict for a stale version and stores nothing', async () => {
      expect((await put({ version: 0, escalation: { sla: '20m' } })).status).toBe(200);
      const { status, body } = await put({ version: 0, escalation: { sla: '25m' } });
      expect(status).toBe(409);
      expect(body.error.code).toBe('version_conflict');
      expect(body.error.details).toEqual({ current_version: 1 });
      expect(t.deps.config().escalation.sla).toBe(20 * 60_000);
    });

    it('refuses unknown keys with their paths', async () => {
      const { status, body } = await put({
        version: 0,
        colour: 'blue',
        escalation: { sla: '20m', mood: 'calm' },
        follow_up_rules: [{ ...RULE, delay: '1h' }],
      });
      expect(status).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details.map((d: Json) => d.path).sort()).toEqual([
        'colour',
        'escalation.mood',
        'follow_up_rules.0.delay',
      ]);
      expect((await get()).body.version).toBe(0);
    });

    it('refuses bad values with their paths, validated against the whole config', async () => {
      const { status, body } = await put({
        version: 0,
        escalation: { sla: 'soon' },
        quiet_hours: { start: '25:00', end: '08:00', timezone: 'Mars/Olympus' },
      });
      expect(status).toBe(400);
      expect(body.error.details.map((d: Json) => d.path).sort()).toEqual([
        'escalation.sla',
        'quiet_hours.start',
        'quiet_hours.timezone',
      ]);
      expect(t.deps.config().escalation.sla).toBe(15 * 60_000);
    });

    it.each([
      [{ channels: { access_token: NEW_ACCESS_TOKEN } }, 'channels.access_token'],
      [{ channels: { phone_number_id: '123' } }, 'channels.phone_number_id'],
      [{ runtime: { automation_mode: 'autonomous' } }, 'runtime.automation_mode'],
      [{ runtime: { status: 'paused' } }, 'runtime.status'],
      [{ runtime: { access_tier: 'root' } }, 'runtime.access_tier'],
      [{ responder: { openai: { api_key: 'sk-another-key-123' } } }, 'responder.openai.api_key'],
      [{ responder: { openai: { base_url: 'http://127.0.0.1:1/v1' } } }, 'responder.openai.base_url'],
      [{ analytics: { enabled: false } }, 'analytics.enabled'],
      [{ retention: { raw_webhooks: '7d' } }, 'retention.raw_webhooks'],
      [{ outbound: { rate_per_second: 5 } }, 'outbound.rate_per_second'],
    ])('answers 403 naming the root key for %j, and stores nothing', async (change, key) => {
      const { status, body } = await put({ version: 0, follow_up_rules: [RULE], ...change });
      expect(status).toBe(403);
      expect(body.error.code).toBe('forbidden');
      expect(body.error.message).toContain(key);
      expect(body.error.details).toEqual([{ path: key, message: 'needs a root token' }]);
      expect((await get()).body.version).toBe(0);
      expect(t.deps.config().follow_up_rules).toEqual([]);
    });

    it('may turn autonomous mode off again', async () => {
      expect(
        (await put({ version: 0, runtime: { automation_mode: 'autonomous' } }, t.tokens.root)).status,
      ).toBe(200);
      const { status, body } = await put({ version: 1, runtime: { automation_mode: 'assisted' } });
      expect(status).toBe(200);
      expect(body.runtime.automation_mode).toBe('assisted');
    });

    it('accepts the GET document sent back with one change', async () => {
      const current = (await get()).body;
      const { status, body } = await put({ ...current, follow_up_rules: [RULE] });
      expect(status).toBe(200);
      expect(body.version).toBe(1);
      const history = await call('GET', VERSIONS, { token: t.tokens.root });
      expect(history.body.items[0].changed_keys).toEqual(['follow_up_rules']);
      expect(t.deps.config().channels.access_token).toBe(ACCESS_TOKEN);
    });

    it('stores nothing for a change that changes nothing', async () => {
      const { status, body } = await put({ version: 0, escalation: { sla: '15m' } });
      expect(status).toBe(200);
      expect(body.version).toBe(0);
      expect((await call('GET', VERSIONS, { token: t.tokens.root })).body.items).toEqual([]);
    });

    it.each([
      [{ follow_up_rules: [] }, 'version'],
      [{ version: '0' }, 'version'],
      [{ version: -1 }, 'version'],
      [{ version: 1.5 }, 'version'],
    ])('answers 400 for %j', async (b, field) => {
      const { status, body } = await put(b);
      expect(status).toBe(400);
      expect(body.error.details.map((d: Json) => d.path)).toContain(field);
    });

    it.each([99, 0, '1'])('answers 400 for schema_version %j', async (sv) => {
      const { status, body } = await put({ version: 0, schema_version: sv, escalation: { sla: '20m' } });
      expect(status).toBe(400);
      expect(body.error.details[0].path).toBe('schema_version');
    });

    it('accepts the current schema_version', async () => {
      const { status, body } = await put({ version: 0, schema_version: 1, escalation: { sla: '20m' } });
      expect(status).toBe(200);
      expect(body.escalation.sla).toBe('20m');
    });

    it('answers 400 for a body that is not a JSON object', async () => {
      expect((await put('not json')).status).toBe(400);
      expect((await put([1, 2])).status).toBe(400);
    });

    it('answers 401 without a token', async () => {
      const res = await t.request(CONFIG, { method: 'PUT', body: { version: 0 }, token: null });
      expect(res.status).toBe(401);
    });
  });

  describe('PUT by a root token', () => {
    it('changes credentials: the new one is used, never shown', async () => {
      const { status, body } = await put(
        { version: 0, channels: { access_token: NEW_ACCESS_TOKEN } },
        t.tokens.root,
      );
      expect(status).toBe(200);
      expect(body.channels.access_token).toBe('[redacted]');
      expect(t.deps.config().channels.access_token).toBe(NEW_ACCESS_TOKEN);
      const history = await call('GET', VERSIONS, { token: t.tokens.root });
      expect(history.body.items[0].document).toEqual({ channels: { access_token: '[redacted]' } });
      expect(t.logText()).not.toContain(NEW_ACCESS_TOKEN);
    });

    it('pauses the runtime and writes the change to the audit log', async () => {
      const { status, body } = await put({ version: 0, runtime: { status: 'paused' } }, t.tokens.root);
      expect(status).toBe(200);
      expect(body.runtime.status).toBe('paused');
      expect(t.deps.config().runtime.status).toBe('paused');
      const audit = await call('GET', AUDIT, { token: t.tokens.root });
      expect(audit.body.items).toHaveLength(1);
      expect(audit.body.items[0]).toMatchObject({
        action: 'config.update',
        details: { version: 1, reason: 'management_api', changed_keys: ['runtime.status'] },
      });
    });

    it('sets autonomous mode, access tier, analytics and retention', async () => {
      const { status, body } = await put(
        {
          version: 0,
          runtime: { automation_mode: 'autonomous', access_tier: 'root' },
          analytics: { enabled: false },
          retention: { raw_webhooks: '10d' },
        },
        t.tokens.root,
      );
      expect(status).toBe(200);
      expect(body).toMatchObject({
        runtime: { automation_mode: 'autonomous', access_tier: 'root' },
        analytics: { enabled: false },
        retention: { raw_webhooks: '10d' },
      });
    });

    it.each([
      [{ server: { port: 9999 } }, 'server.port'],
      [{ database: { path: '/tmp/elsewhere.db' } }, 'database.path'],
      [{ log: { level: 'trace' } }, 'log.level'],
    ])('refuses %j as read-only over the API', async (change, key) => {
      const { status, body } = await put({ version: 0, ...change }, t.tokens.root);
      expect(status).toBe(400);
      expect(body.error.code).toBe('read_only_setting');
      expect(body.error.details[0].path).toBe(key);
    });

    it('refuses the redacted placeholder as a new secret', async () => {
      const other = await createTestApp({ memory: true });
      try {
        const res = await other.request(CONFIG, {
          method: 'PUT',
          body: { version: 0, channels: { access_token: '[redacted]' } },
        });
        expect(res.status).toBe(400);
        expect((await json(res)).error.details[0].path).toBe('channels.access_token');
      } finally {
        await other.close();
      }
    });
  });

  describe('history', () => {
    it('keeps every version with its actor and changed keys, newest first, for root only', async () => {
      await put({ version: 0, follow_up_rules: [RULE] });
      await put({ version: 1, channels: { access_token: NEW_ACCESS_TOKEN } }, t.tokens.root);
      const { status, body } = await call('GET', VERSIONS, { token: t.tokens.root });
      expect(status).toBe(200);
      expect(body.items.map((v: Json) => [v.version, v.reason, v.changed_keys])).toEqual([
        [2, 'management_api', ['channels.access_token']],
        [1, 'management_api', ['follow_up_rules']],
      ]);
      expect(body.items[0].document.follow_up_rules).toHaveLength(1);
      expect(body.items[0].actor).not.toBe(body.items[1].actor);
      expect((await call('GET', VERSIONS, { token: t.tokens.standard })).status).toBe(403);
      expect((await call('GET', VERSIONS, { token: null })).status).toBe(401);
    });

    it('pages through versions', async () => {
      for (let v = 0; v < 3; v++) await put({ version: v, escalation: { sla: `${20 + v}m` } });
      const first = await call('GET', `${VERSIONS}?limit=2`, { token: t.tokens.root });
      expect(first.body.items.map((i: Json) => i.version)).toEqual([3, 2]);
      const second = await call('GET', `${VERSIONS}?limit=2&cursor=${first.body.next_cursor}`, {
        token: t.tokens.root,
      });
      expect(second.body.items.map((i: Json) => i.version)).toEqual([1]);
      expect(second.body.next_cursor).toBeNull();
    });
  });
});

describe('management config across restarts', () => {
  it('keeps the stored override until the files change, then the files win (logged once)', async () => {
    const first = await createTestApp({ config: { escalation: { sla: '15m' } } });
    const opened: TestApp[] = [];
    // Each start a day later, so the sequential ids of the new run do not collide with the old ones.
    const restart = (n: number) => ({ databaseOf: first, start: Date.UTC(2026, 0, 5 + n, 8) });
    try {
      const res = await first.request(CONFIG, {
        method: 'PUT',
        body: { version: 0, escalation: { sla: '45m' } },
      });
      expect(res.status).toBe(200);
      await first.daemon.stop();

      const same = await createTestApp({ ...restart(1), config: { escalation: { sla: '15m' } } });
      opened.push(same);
      expect(same.deps.config().escalation.sla).toBe(45 * 60_000);
      expect((await json(await same.request(CONFIG))).version).toBe(1);
      await same.daemon.stop();

      const edited = await createTestApp({ ...restart(2), config: { escalation: { sla: '10m' } } });
      opened.push(edited);
      expect(edited.deps.config().escalation.sla).toBe(10 * 60_000);
      const view = await json(await edited.request(CONFIG));
      expect(view.version).toBe(2);
      expect(view.escalation.sla).toBe('10m');
      expect(edited.logs().filter((l) => l.event === 'config.override_superseded')).toHaveLength(1);
      await edited.daemon.stop();

      const again = await createTestApp({ ...restart(3), config: { escalation: { sla: '10m' } } });
      opened.push(again);
      expect(again.logs().filter((l) => l.event === 'config.override_superseded')).toHaveLength(0);
      expect((await json(await again.request(CONFIG))).version).toBe(2);
      await again.daemon.stop();
    } finally {
      for (const o of opened) rmSync(o.dir, { recursive: true, force: true });
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
