import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each([
  { kind: 'private', base: '/api/agents', other: '/api/shared-agents' },
  { kind: 'shared', base: '/api/shared-agents', other: '/api/agents' },
])('$base', ({ kind, base, other }) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  const create = (body: unknown, token?: string) => t.request(base, { body, token: token ?? t.tokens.root });

  describe('POST', () => {
    it('creates an agent with a generated uuid', async () => {
      const res = await create({ name: '  Support  ', phone_number_id: '106540352242922' });
      expect(res.status).toBe(201);
      const body = await json(res);
      expect(body).toEqual({
        id: expect.any(Number),
        uuid: expect.stringMatching(UUID_V4),
        name: 'Support',
        kind,
        phone_number_id: '106540352242922',
        created_at: '2026-01-05T08:00:00.000Z',
      });
    });

    it('keeps a given uuid, in lower case', async () => {
      const res = await create({ name: 'A', uuid: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE' });
      expect(res.status).toBe(201);
      expect(await json(res)).toMatchObject({
        uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
        phone_number_id: null,
      });
    });

    it('gives different agents different generated uuids and ids', async () => {
      const a = await json(await create({ name: 'A' }));
      const b = await json(await create({ name: 'B' }));
      expect(a.uuid).not.toBe(b.uuid);
      expect(b.id).toBeGreaterThan(a.id);
    });

    it('answers 409 for a uuid already used, by either kind of agent', async () => {
      const uuid = '11111111-2222-4333-8444-555555555555';
      expect((await t.request(other, { body: { name: 'A', uuid } })).status).toBe(201);
      const res = await create({ name: 'B', uuid: uuid.toUpperCase() });
      expect(res.status).toBe(409);
      const err = (await json(res)).error;
      expect(err.code).toBe('conflict');
      expect(err.details[0].path).toBe('uuid');
    });

    it('answers 409 for a phone_number_id another agent owns', async () => {
      expect((await t.request(other, { body: { name: 'A', phone_number_id: 'sandbox' } })).status).toBe(201);
      const res = await create({ name: 'B', phone_number_id: 'sandbox' });
      expect(res.status).toBe(409);
      expect((await json(res)).error.details[0].path).toBe('phone_number_id');
    });

    it('lets several agents have no channel', async () => {
      expect((await create({ name: 'A', phone_number_id: null })).status).toBe(201);
      expect((await create({ name: 'B' })).status).toBe(201);
    });

    it.each([
      [{}, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 7 }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'A', uuid: 'agent-1' }, 'uuid'],
      [{ name: 'A', phone_number_id: '+49 30 1234' }, 'phone_number_id'],
      [{ name: 'A', kind: 'shared' }, 'kind'],
    ])('answers 400 naming the field for %j', async (body, field) => {
      const res = await create(body);
      expect(res.status).toBe(400);
      const err = (await json(res)).error;
      expect(err.code).toBe('validation_failed');
      expect(err.details.map((d: Json) => d.path)).toContain(field);
    });

    it('answers 403 for a standard token and creates nothing', async () => {
      expect((await create({ name: 'A' }, t.tokens.standard)).status).toBe(403);
      expect((await json(await t.request(base))).items).toEqual([]);
    });

    it('answers 401 without a token', async () => {
      expect((await t.request(base, { body: { name: 'A' }, token: null })).status).toBe(401);
    });
  });

  describe('GET', () => {
    it('lists only agents of its kind, for a standard token', async () => {
      await create({ name: 'mine' });
      await t.request(other, { body: { name: 'theirs' } });
      const res = await t.request(base, { token: t.tokens.standard });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.items.map((a: Json) => a.name)).toEqual(['mine']);
      expect(body.next_cursor).toBeNull();
    });

    it('pages through agents in creation order with next_cursor', async () => {
      for (const name of ['a', 'b', 'c', 'd', 'e']) await create({ name });
      const names: string[] = [];
      let url = `${base}?limit=2`;
      const sizes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const body = await json(await t.request(url));
        names.push(...body.items.map((a: Json) => a.name));
        sizes.push(body.items.length);
        if (body.next_cursor === null) break;
        url = `${base}?limit=2&cursor=${body.next_cursor}`;
      }
      expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(sizes).toEqual([2, 2, 1]);
    });

    it('uses 50 as the default page size', async () => {
      for (let i = 0; i < 51; i++) await create({ name: `agent-${i}` });
      const body = await json(await t.request(base));
      expect(body.items).toHaveLength(50);
      expect(body.next_cursor).not.toBeNull();
    });

    it.each(['limit=0', 'limit=101', 'limit=ten', 'cursor=%%%', 'sort=name'])(
      'answers 400 for the query %s',
      async (q) => {
        const res = await t.request(`${base}?${q}`);
        expect(res.status).toBe(400);
        expect((await json(res)).error.code).toBe('validation_failed');
      },
    );

    it('answers 401 without a token', async () => {
      expect((await t.request(base, { token: null })).status).toBe(401);
    });
  });

  describe('GET /:agent_id/extensions', () => {
    it('lists no attachments for a new agent', async () => {
      const a = await json(await create({ name: 'A' }));
      const res = await t.request(`${base}/${a.id}/extensions`, { token: t.tokens.standard });
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual([]);
    });

    it('answers 404 for an agent of the other kind', async () => {
      const a = await json(await t.request(other, { body: { name: 'A' } }));
      const res = await t.request(`${base}/${a.id}/extensions`);
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('not_found');
    });

    it.each(['999', 'abc', '0'])('answers 404 for agent id %s', async (id) => {
      expect((await t.request(`${base}/${id}/extensions`)).status).toBe(404);
    });

    it('answers 401 without a token', async () => {
      expect((await t.request(`${base}/1/extensions`, { token: null })).status).toBe(401);
    });
  });
});
