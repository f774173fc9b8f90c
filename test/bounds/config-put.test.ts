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
