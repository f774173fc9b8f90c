// SPEC §9a "limits before work": array lengths and nesting depth counted on the text before any JSON
// is built, for every API body.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const CAMPAIGNS = '/api/extensions/native-whatsapp/runtime/campaigns';
const CONFIG = '/api/extensions/native-whatsapp/management/config';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ memory: true });
});
afterEach(async () => {
  await t.close();
});

function nested(levels: number): string {
  return `{"version":0,"escalation":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
}

describe('limits before work', () => {
  it('a 32 MiB campaign body of millions of empty recipients is 400 without being parsed', async () => {
    const head = '{"name":"x","agent_uuid":"a","template":{"name":"t","language":"en"},"recipients":[';
    const count = Math.floor((32 * 1024 * 1024 - head.length - 2) / 3);
    const body = `${head}${'{},'.repeat(count - 1)}{}]}`;
    expect(count).toBeGreaterThan(11_000_000);
    const heapBefore = process.memoryUsage().heapUsed;
    const res = await t.request(CAMPAIGNS, { method: 'POST', body, token: t.tokens.standard });
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(res.status).toBe(400);
    const err = (await json(res)).error;
    expect(err.code).toBe('validation_failed');
    expect(err.details).toEqual([{ path: 'recipients', message: 'must have at most 100000 items' }]);
    // Parsed whole, eleven million objects would take far more than the body's own bytes.
    expect(heapGrowth).toBeLessThan(400 * 1024 * 1024);
  });

  it('a config body nested 10,000 levels is 400, not 500, and changes nothing', async () => {
    const res = await t.request(CONFIG, { method: 'PUT', body: nested(10_000) });
    expect(res.status).toBe(400);
    const err = (await json(res)).error;
    expect(err.code).toBe('validation_failed');
    expect(err.message).toMatch(/nested deeper than 64 levels/);
    expect((await json(await t.request(CONFIG))).version).toBe(0);
  });

  it('nesting up to 64 levels reaches validation (then refused for its unknown keys, by path)', async () => {
    const res = await t.request(CONFIG, { method: 'PUT', body: nested(62) });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).not.toMatch(/nested deeper/);
  });

  it('any API body is held to the same depth', async () => {
    const res = await t.request(CAMPAIGNS, { method: 'POST', body: `{"name":${'['.repeat(100)}` });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/nested deeper than 64 levels/);
  });
});
