// Fuzzing the webhook payload through the real app: correctly signed bodies of every kind (Meta's
// shapes, mutated fixtures, unrelated JSON, not JSON) never get a 500, the daemon keeps serving, and
// every accepted delivery is processed without a crash (a bug would leave it pending with an error).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delivery } from '../../src/webhook/payload.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { post, signed } from '../webhook/deliveries.js';
import { fuzzParams, fuzzTimeout } from './fuzz-runs.js';
import { webhookBody } from './meta-arbitraries.js';

const DAY = 86_400_000;

function isDelivery(text: string): boolean {
  try {
    return delivery.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}

describe('fuzz: webhook payloads through the app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      config: {
        conversation_classes: [
          { name: 'sales', match: { keywords: ['price'] }, route: 'human', priority: 'high' },
        ],
        responder: { rules: [{ keywords: ['price'], reply: 'Our prices are on the website.' }] },
      },
    });
  });
  afterAll(() => t.close());

  it(
    'a signed body gets 200 (stored) or 400 (stored as rejected), never 500, and processing never crashes',
    async () => {
      await fc.assert(
        fc.asyncProperty(webhookBody, fc.integer({ min: 0, max: 3 * DAY }), async (text, later) => {
          t.clock.advance(later);
          const res = await post(t, signed(text));
          const body = await json(res);
          if (isDelivery(text)) {
            expect(res.status, JSON.stringify(body)).toBe(200);
          } else {
            expect(res.status, JSON.stringify(body)).toBe(400);
            expect(['invalid_json', 'invalid_webhook']).toContain(body.error.code);
            return;
          }
          await t.deps.inbox.processor.drain();
          const row = await t.deps.db
            .selectFrom('inbox')
            .select(['state', 'last_error', 'attempts'])
            .where('id', '=', body.inbox_id)
            .executeTakeFirstOrThrow();
          // A failure other than a data problem of one item leaves the row pending (retry) or dead.
          expect(row, row.last_error ?? '').toEqual({ state: 'processed', last_error: null, attempts: 0 });
        }),
        fuzzParams(),
      );
      expect((await t.request('/healthz', { token: null })).status).toBe(200);
      expect((await t.request('/readyz', { token: null })).status).toBe(200);
      expect((await t.request('/api/extensions/native-whatsapp/runtime/conversations')).status).toBe(200);
    },
    fuzzTimeout(15),
  );
});
