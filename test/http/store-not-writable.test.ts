// The database made read-only under the running daemon (SPEC §8 /readyz, §9): readiness fails naming
// the reason, webhooks get 503 + Retry-After instead of a 200 that could not be kept, background work
// pauses, and everything resumes by itself once the file is writable again. SQLite only: it is about
// the database file (PostgreSQL's read-only errors are covered in test/store/writability.test.ts).
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteHandle } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveryOf, messagesChange, post, signed } from '../webhook/deliveries.js';

let t: TestApp | undefined;
afterEach(async () => {
  if (t) chmodSync(sqliteHandle(t.deps.database).path, 0o644);
  await t?.close();
  t = undefined;
});

const inboxCount = (app: TestApp) =>
  (sqliteHandle(app.deps.database).sqlite.prepare('select count(*) as n from inbox').get() as { n: number })
    .n;

function delivery(wa: string) {
  return signed(
    deliveryOf([messagesChange([{ wa_id: wa }], [{ from: wa, timestamp: 1767600000, body: 'hi' }])]),
  );
}

describe('database file made read-only under the daemon', () => {
  it('/readyz answers 503 naming the reason, and 200 again once the file is writable', async () => {
    t = await createTestApp({ engine: 'sqlite' });
    expect((await t.request('/readyz', { token: null })).status).toBe(200);
    chmodSync(sqliteHandle(t.deps.database).path, 0o444);
    const res = await t.request('/readyz', { token: null });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; checks: { store: string; database: string } };
    expect(body.status).toBe('not_ready');
    expect(body.checks.database).toBe('ok');
    expect(body.checks.store).toMatch(/^not writable: the database file .* is read-only \(mode 0444\)$/);
    chmodSync(sqliteHandle(t.deps.database).path, 0o644);
    const again = await t.request('/readyz', { token: null });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { checks: { store: string } }).checks.store).toBe('writable');
  });

  it('a signed webhook gets 503 with Retry-After and nothing is stored; after recovery it gets 200', async () => {
    t = await createTestApp({ engine: 'sqlite' });
    const before = inboxCount(t);
    chmodSync(sqliteHandle(t.deps.database).path, 0o444);
    await t.deps.writability.probe();
    const d = delivery('4917100000001');
    const refused = await post(t, d);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('store_not_writable');
    expect(inboxCount(t)).toBe(before);
    expect(t.logs().some((l) => l.event === 'store.not_writable')).toBe(true);

    chmodSync(sqliteHandle(t.deps.database).path, 0o644);
    await t.deps.writability.probe();
    expect((await post(t, d)).status).toBe(200);
    expect(inboxCount(t)).toBe(before + 1);
    expect(t.logs().some((l) => l.event === 'store.writable_again')).toBe(true);
  });

  it('API commands get 503 while not writable; reads still answer', async () => {
    t = await createTestApp({ engine: 'sqlite' });
    chmodSync(sqliteHandle(t.deps.database).path, 0o444);
    await t.deps.writability.probe();
    const create = await t.request('/api/agents', { body: { name: 'Support' } });
    expect(create.status).toBe(503);
    expect(create.headers.get('retry-after')).toBe('5');
    expect((await t.request('/api/agents')).status).toBe(200);
    chmodSync(sqliteHandle(t.deps.database).path, 0o644);
    await t.deps.writability.probe();
    expect((await t.request('/api/agents', { body: { name: 'Support' } })).status).toBe(201);
  });

  it('background work pauses while not writable and picks up what waited once writable again', async () => {
    t = await createTestApp({ engine: 'sqlite' });
    expect((await post(t, delivery('4917100000002'))).status).toBe(200);
    await t.deps.inbox.processor.drain();
    chmodSync(sqliteHandle(t.deps.database).path, 0o444);
    await t.deps.writability.probe();
    // A delivery committed just before the file turned read-only (written behind the gate's back).
    sqliteHandle(t.deps.database)
      .sqlite.prepare(
        "insert into inbox (id, received_at, body, delivery_hash, state, attempts, next_attempt_at) values ('late', 0, ?, 'h', 'pending', 0, 0)",
      )
      .run(delivery('4917100000003').body.toString());
    t.deps.inbox.processor.wake();
    await expect(t.deps.inbox.processor.drain()).rejects.toThrow(/no progress/);
    const pending = () =>
      (t && sqliteHandle(t.deps.database).sqlite)
        ?.prepare("select state from inbox where id = 'late'")
        .get() as { state: string };
    expect(pending().state).toBe('pending');

    chmodSync(sqliteHandle(t.deps.database).path, 0o644);
    await t.deps.writability.probe();
    await t.deps.inbox.processor.drain();
    expect(pending().state).toBe('processed');
  });

  it('a write error saying the file cannot be written latches 503 until a probe write succeeds', async () => {
    t = await createTestApp({ engine: 'sqlite' });
    const err = Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
    expect(t.deps.writability.noteWriteError(err)).toBe(true);
    expect((await post(t, delivery('4917100000004'))).status).toBe(503);
    // The file itself is fine, so the next probe's test write succeeds and clears it.
    const ready = await t.request('/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect((await post(t, delivery('4917100000004'))).status).toBe(200);
  });
});
