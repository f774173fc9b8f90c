import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

describe('HTTP errors', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true, config: { server: { api_body_limit_bytes: 2048 } } });
    // Routes that exist only in this test, to drive the shared error paths.
    t.daemon.app.router.add(
      {
        method: 'get',
        path: '/api/test/boom',
        tier: 'standard',
        tag: 'test',
        summary: 'throws',
        responses: {},
      },
      () => {
        throw new Error('secret internals at /srv/app/src/thing.ts:42');
      },
    );
    t.daemon.app.router.add(
      {
        method: 'post',
        path: '/api/test/echo',
        tier: 'standard',
        tag: 'test',
        summary: 'validates',
        body: z.strictObject({ name: z.string().min(1), count: z.number().int() }),
        responses: {},
      },
      (c, { body }) => c.json(body),
    );
  });
  afterEach(async () => {
    await t.close();
  });

  it('renders unknown errors as 500 internal_error without internals, and logs the stack', async () => {
    const res = await t.request('/api/test/boom');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe('internal_error');
    expect(text).not.toContain('secret internals');
    expect(text).not.toContain('.ts');
    const logged = t.logs().find((l) => l.event === 'http.unhandled_error');
    expect(JSON.stringify(logged)).toContain('secret internals');
  });

  it('answers unknown routes with a 404 envelope', async () => {
    const res = await t.request('/api/nothing-here');
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('not_found');
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await t.request('/api/test/echo', { body: '{"name": "x",' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('invalid_json');
  });

  it('answers wrong types and unknown fields with 400 and every path', async () => {
    const res = await t.request('/api/test/echo', { body: { name: '', count: 'three', extra: true } });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'count',
      'extra',
      'name',
    ]);
    expect(body.error.message).toMatch(/^invalid body: /);
  });

  it('answers a body over the limit with 413', async () => {
    const res = await t.request('/api/test/echo', { body: { name: 'x'.repeat(5000), count: 1 } });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe('payload_too_large');
  });

  it('answers a non-JSON media type with 415', async () => {
    const res = await t.request('/api/test/echo', {
      body: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
  });

  it('echoes a sane X-Request-Id and replaces an insane one', async () => {
    const ok = await t.request('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(ok.headers.get('x-request-id')).toBe('abc-123');
    for (const insane of ['a b', 'x'.repeat(65), '<script>']) {
      const bad = await t.request('/healthz', { headers: { 'x-request-id': insane } });
      expect(bad.headers.get('x-request-id')).toMatch(/^[0-9A-Z]{26}$/);
    }
  });

  it('logs one access line per request with the request id', async () => {
    await t.request('/api/nothing-here', { headers: { 'x-request-id': 'trace-me' } });
    const line = t.logs().find((l) => l.event === 'http.request' && l.request_id === 'trace-me');
    expect(line).toMatchObject({ method: 'GET', path: '/api/nothing-here', status: 404 });
  });

  it('publishes every declared route in the OpenAPI document', async () => {
    const res = await t.request('/api/openapi.json', { token: null });
    const doc = await json(res);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics']));
    const docs = await t.request('/api/docs', { token: null });
    expect(await docs.text()).toContain('/readyz');
  });
});
