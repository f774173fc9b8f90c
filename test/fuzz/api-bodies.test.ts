// Fuzzing every API body: the routes come from GET /api/openapi.json, so a route added later is
// fuzzed without touching this file. Each gets schema-guided and malformed bodies; the answer is a
// success or one of the client errors of SPEC §8 in the error envelope, never a 500, and a refused
// request changes no table's row count.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteHandle } from '../helpers/engines.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliver, fixture, PNID } from '../webhook/deliveries.js';
import { configDocuments } from './config-arbitraries.js';
import { fuzzParams, fuzzTimeout } from './fuzz-runs.js';
import { bodyFor, type FuzzBody, type Hints, type JsonSchema } from './json-schema-arbitrary.js';

const REFUSALS = new Set([400, 404, 409, 413, 415, 422]);
const SUCCESSES = new Set([200, 201, 202]);
const API_BODY_LIMIT = 64 * 1024;
const CONFIG_PATH = '/api/extensions/native-whatsapp/management/config';

interface Target {
  method: string;
  path: string;
  schema: JsonSchema;
}

let t: TestApp;
const targets: Target[] = [];
let agentId = '1';
const hints: Hints = {};

async function rowCounts(): Promise<Record<string, number>> {
  const sqlite = sqliteHandle(t.deps.database).sqlite;
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    // A refused root request is itself audited (SPEC §9a: outcome included): the one row a refusal adds.
    if (name === 'audit_log') continue;
    out[name] = (sqlite.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n;
  }
  return out;
}

/** Path parameters: an id that exists, ids that do not, and junk. */
const paramValue = fc.oneof(
  { weight: 3, arbitrary: fc.constant('known') },
  { weight: 1, arbitrary: fc.constantFrom('0', '999999', '-1', 'abc', '%00', '1e3', '01', ' 1') },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~'), minLength: 1, maxLength: 30 }),
  },
);

function fillPath(template: string, value: string): string {
  return template.replace(/\{[A-Za-z_]+\}/g, () => encodeURIComponent(value === 'known' ? agentId : value));
}

async function send(target: Target, path: string, body: FuzzBody): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.tokens.root}` };
  if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  return t.daemon.app.app.request(path, { method: target.method.toUpperCase(), headers, body: body.text });
}

/** The management PUT gets whole config documents too, based on the current version or a stale one. */
async function configBody(doc: Record<string, unknown>, stale: boolean): Promise<FuzzBody> {
  const current = await json(await t.request(CONFIG_PATH));
  const version = stale ? Math.max(0, current.version - 1) : current.version;
  // Load-shedding settings would make later answers depend on timing (a 429 is not a bug there).
  const { load: _load, ...rest } = doc;
  return { text: JSON.stringify({ ...rest, version }), contentType: 'application/json' };
}

/**
 * Lets background work started by an accepted request finish (inbox processing, responder jobs,
 * sends), so that a later refusal is not blamed for rows they write.
 */
async function settle(): Promise<void> {
  type Drainable = { drain?: (timeoutMs?: number) => Promise<void> } | undefined;
  const deps = t.deps as unknown as Record<string, Record<string, Drainable> | undefined>;
  for (let i = 0; i < 2; i++) {
    await t.deps.inbox.processor.drain();
    await deps.outbound?.responder?.drain?.();
    await deps.outbound?.sender?.drain?.(15_000);
  }
}

async function check(target: Target, path: string, body: FuzzBody): Promise<void> {
  // Config PUT is rate-limited per token (SPEC §9a, tested in test/bounds): a minute between runs.
  if (path === CONFIG_PATH) t.clock.advance(60_000);
  const before = await rowCounts();
  const res = await send(target, path, body);
  const text = await res.text();
  const what = `${target.method.toUpperCase()} ${path} (${body.text?.length ?? 0} bytes, ${body.contentType}) → ${res.status} ${text.slice(0, 300)}`;
  expect(SUCCESSES.has(res.status) || REFUSALS.has(res.status), what).toBe(true);
  if (REFUSALS.has(res.status)) {
    const envelope = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    expect(envelope.error?.code, what).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(envelope.error?.message, what).toEqual(expect.any(String));
    expect(await rowCounts(), what).toEqual(before);
  } else {
    await settle();
  }
}

describe('fuzz: every API body', () => {
  beforeAll(async () => {
    t = await createTestApp({
      engine: 'sqlite',
      config: {
        server: { api_body_limit_bytes: API_BODY_LIMIT },
        templates: [{ name: 'welcome', language: 'en_US', category: 'MARKETING' }],
      },
    });
    const doc = await json(await t.request('/api/openapi.json'));
    for (const [path, ops] of Object.entries<Record<string, { requestBody?: unknown }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schema = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)
          ?.content?.['application/json']?.schema;
        if (schema) targets.push({ method, path, schema });
      }
    }
    // Something for the bodies to point at: an agent owning the fixtures' channel with an active
    // attachment, and one conversation, so some fuzzed commands get past the lookups.
    const created = await json(
      await t.request('/api/agents', { body: { name: 'fuzz target', phone_number_id: PNID } }),
    );
    agentId = String(created.id);
    const offers = await json(await t.request('/api/marketplace/extensions'));
    await t.request('/api/marketplace/extensions/install', {
      body: { offerId: offers[0].id, agentUuid: created.uuid, installMode: 'trial' },
    });
    await deliver(t, fixture('msg_text_plain.json'));
    await settle();
    const conversations = await json(
      await t.request('/api/extensions/native-whatsapp/runtime/conversations'),
    );
    hints.offerId = offers.map((o: { id: number }) => o.id);
    hints.agentUuid = [created.uuid];
    hints.agent_uuid = [created.uuid];
    hints.platform = ['whatsapp'];
    hints.conversation_id = conversations.items.map((c: { conversation_id: string }) => c.conversation_id);
    hints.intent = [
      'route_conversation',
      'reply_conversation',
      'score_conversation',
      'follow_up_conversation',
      'escalate_conversation',
      'close_conversation',
      'publish_campaign',
      'monetize',
    ];
    hints.wa_id = ['4917000000001', '5511900000002'];
    hints.name = ['welcome'];
    hints.language = ['en_US'];
  });
  afterAll(() => t.close());

  it('finds the routes that take a body in the OpenAPI document', () => {
    expect(targets.map((x) => `${x.method} ${x.path}`)).toEqual(
      expect.arrayContaining(['post /api/agents', `put ${CONFIG_PATH}`]),
    );
  });

  it(
    'each route answers fuzzed bodies with a success or a client error, never 500, and refusals change nothing',
    async () => {
      // Runs are shared among the routes, so every route gets its full share in the 10,000-run mode.
      for (const target of targets) {
        await fc.assert(
          fc.asyncProperty(bodyFor(target.schema, API_BODY_LIMIT, hints), paramValue, async (body, param) => {
            await check(target, fillPath(target.path, param), body);
          }),
          fuzzParams(),
        );
      }
      expect((await t.request('/healthz', { token: null })).status).toBe(200);
    },
    // Room for twenty routes at a few milliseconds per request.
    fuzzTimeout(10 * 20),
  );

  it(
    'the management config PUT answers whole documents, current or stale, never with a 500',
    async () => {
      const target = targets.find((x) => x.path === CONFIG_PATH && x.method === 'put');
      expect(target).toBeDefined();
      await fc.assert(
        fc.asyncProperty(configDocuments, fc.boolean(), async (doc, stale) => {
          await check(target as Target, CONFIG_PATH, await configBody(doc, stale));
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(6),
  );
});
