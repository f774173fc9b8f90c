// SPEC §10: a config change made on one instance takes effect on all within one tick. The other
// instance is played by writing its stored version straight into the shared database (two daemons
// cannot share a SQLite file); test/faults/instances.test.ts does it with real instances on PostgreSQL.
import { afterEach, describe, expect, it } from 'vitest';
import { CURRENT_SCHEMA_VERSION } from '../../src/config/schema.js';
import { configVersionsRepo } from '../../src/store/config-versions-repo.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const CONFIG = '/api/extensions/native-whatsapp/management/config';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** What another instance's PUT leaves in the shared database. */
async function storedElsewhere(app: TestApp, version: number, document: Record<string, unknown>) {
  await configVersionsRepo.insert(app.deps.db, {
    version,
    schema_version: CURRENT_SCHEMA_VERSION,
    document: JSON.stringify(document),
    base_hash: 'other-instance',
    actor: 'tok_other',
    reason: 'management_api',
    changed_keys: JSON.stringify(Object.keys(document)),
    created_at: app.clock.now(),
  });
}

describe('config across instances', () => {
  it('a version stored by another instance is in effect here after the next tick', async () => {
    t = await createTestApp({ config: { escalation: { sla: '15m' } } });
    await storedElsewhere(t, 1, { escalation: { sla: '45m' }, runtime: { status: 'paused' } });
    expect(t.deps.config().escalation.sla).toBe(15 * 60_000);
    await t.deps.outbound.scheduler.tick();
    expect(t.deps.config().escalation.sla).toBe(45 * 60_000);
    expect(t.deps.config().runtime.status).toBe('paused');
    expect((await json(await t.request(CONFIG))).version).toBe(1);
    expect(t.logs().filter((l) => l.event === 'config.reloaded')).toHaveLength(1);
  });

  it('a PUT naming the version another instance stored succeeds before this one ticked', async () => {
    t = await createTestApp();
    await storedElsewhere(t, 1, { escalation: { sla: '45m' } });
    const res = await t.request(CONFIG, { method: 'PUT', body: { version: 1, escalation: { sla: '30m' } } });
    expect(res.status).toBe(200);
    expect((await json(res)).version).toBe(2);
    expect(t.deps.config().escalation.sla).toBe(30 * 60_000);
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'two daemons on one PostgreSQL database: a PUT on one is in effect on the other after its next tick',
    async () => {
      t = await createTestApp({ engine: 'postgres', config: { escalation: { sla: '15m' } } });
      const other = await createTestApp({ databaseOf: t, start: '2026-01-06T08:00:00Z' });
      try {
        const res = await t.request(CONFIG, {
          method: 'PUT',
          body: { version: 0, escalation: { sla: '45m' } },
        });
        expect(res.status).toBe(200);
        expect(other.deps.config().escalation.sla).toBe(15 * 60_000);
        await other.deps.outbound.scheduler.tick();
        expect(other.deps.config().escalation.sla).toBe(45 * 60_000);
        expect((await json(await other.request(CONFIG))).version).toBe(1);
      } finally {
        await other.close();
      }
    },
  );
});
