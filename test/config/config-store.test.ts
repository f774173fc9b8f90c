import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, hashLayers } from '../../src/config/config-store.js';
import type { ConfigLayer } from '../../src/config/load.js';
import { AppError } from '../../src/lib/app-error.js';
import { FakeClock } from '../../src/lib/clock.js';
import { sequentialIds } from '../../src/lib/ids.js';
import { createLogger } from '../../src/observability/logger.js';
import { configVersionsRepo } from '../../src/store/config-versions-repo.js';
import { type OpenedDatabase, openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';

const FILE: ConfigLayer = { name: 'config/default.json', document: { quiet_hours: null } };
const ENV: ConfigLayer = { name: 'environment', document: {} };

describe('ConfigStore', () => {
  let handle: OpenedDatabase;
  let lines: string;
  const clock = new FakeClock('2026-01-05T08:00:00Z');
  const ids = sequentialIds(clock);
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: new Writable({
      write(chunk, _enc, done) {
        lines += chunk.toString();
        done();
      },
    }),
  });
  const events = (name: string) =>
    lines
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { event?: string })
      .filter((l) => l.event === name);
  const load = (layers: ConfigLayer[] = [FILE, ENV], extra = {}) =>
    ConfigStore.load({ db: handle.db, clock, ids, logger, layers, ...extra });
  const change = (changes: Record<string, unknown>, expectedVersion?: number) => ({
    changes,
    changedKeys: Object.keys(changes),
    expectedVersion,
    actor: 'token-1',
    reason: 'test',
    audit: false,
  });

  beforeEach(async () => {
    lines = '';
    handle = openDatabase(':memory:');
    await migrateToLatest(handle.db);
  });
  afterEach(async () => {
    await handle.close();
  });

  it('starts at version 0 with the files and environment when nothing was stored', async () => {
    const store = await load();
    expect(store.version()).toBe(0);
    expect(store.current().runtime.automation_mode).toBe('assisted');
    expect(store.override()).toEqual({});
  });

  it('stores a change as a new version, makes it effective and tells subscribers', async () => {
    const store = await load();
    const seen: string[] = [];
    store.subscribe((next, prev) =>
      seen.push(`${prev.runtime.automation_mode}->${next.runtime.automation_mode}`),
    );
    const out = await store.update(change({ runtime: { automation_mode: 'priority' } }, 0));
    expect(out.version).toBe(1);
    expect(store.current().runtime.automation_mode).toBe('priority');
    expect(seen).toEqual(['assisted->priority']);
    const row = await configVersionsRepo.latest(handle.db);
    expect(row).toMatchObject({ version: 1, actor: 'token-1', reason: 'test', schema_version: 1 });
    expect(JSON.parse(row?.document ?? '')).toEqual({ runtime: { automation_mode: 'priority' } });
  });

  it('merges successive changes over the stored override and keeps every version', async () => {
    const store = await load();
    await store.update(change({ runtime: { automation_mode: 'priority' } }, 0));
    await store.update(change({ escalation: { sla: '30m' } }, 1));
    expect(store.override()).toEqual({
      runtime: { automation_mode: 'priority' },
      escalation: { sla: '30m' },
    });
    expect(store.current().escalation.sla).toBe(30 * 60_000);
    expect((await configVersionsRepo.page(handle.db, { limit: 10 })).map((r) => r.version)).toEqual([2, 1]);
  });

  it('refuses a stale version with version_conflict and stores nothing', async () => {
    const store = await load();
    await store.update(change({ runtime: { automation_mode: 'priority' } }, 0));
    await expect(store.update(change({ escalation: { sla: '30m' } }, 0))).rejects.toMatchObject({
      code: 'version_conflict',
      details: { current_version: 1 },
    });
    expect(await configVersionsRepo.latestVersion(handle.db)).toBe(1);
  });

  it('numbers concurrent changes one after the other', async () => {
    const store = await load();
    const results = await Promise.allSettled([
      store.update(change({ escalation: { sla: '20m' } }, 0)),
      store.update(change({ escalation: { sla: '25m' } }, 0)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(store.version()).toBe(1);
  });

  it('validates the merged whole and names each bad path; nothing is stored', async () => {
    const store = await load();
    const err = await store
      .update(change({ escalation: { sla: 'soon' }, bogus: 1 }, 0))
      .catch((e: unknown) => e as AppError);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_failed');
    const paths = ((err as AppError).details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['bogus', 'escalation.sla']);
    expect(store.version()).toBe(0);
    expect(await configVersionsRepo.latestVersion(handle.db)).toBe(0);
  });

  it('keeps the stored override across a restart while the files are unchanged', async () => {
    await (await load()).update(change({ runtime: { automation_mode: 'priority' } }, 0));
    const again = await load();
    expect(again.version()).toBe(1);
    expect(again.current().runtime.automation_mode).toBe('priority');
  });

  it('keeps the environment above the stored override', async () => {
    const env: ConfigLayer = { name: 'environment', document: { channels: { phone_number_id: 'from-env' } } };
    const store = await load([FILE, env]);
    await store.update(change({ channels: { phone_number_id: 'from-api' } }, 0));
    expect(store.current().channels.phone_number_id).toBe('from-env');
  });

  it('lets the files win again when they changed, logging it once and recording a version', async () => {
    await (await load()).update(change({ runtime: { automation_mode: 'priority' } }, 0));
    const edited: ConfigLayer = {
      name: 'config/default.json',
      document: { quiet_hours: null, scorer: { languages: ['en'] } },
    };

    const after = await load([edited, ENV]);
    expect(after.current().runtime.automation_mode).toBe('assisted');
    expect(after.override()).toEqual({});
    expect(after.version()).toBe(2);
    expect(events('config.override_superseded')).toHaveLength(1);
    expect(await configVersionsRepo.latest(handle.db)).toMatchObject({ version: 2, reason: 'files_changed' });

    const again = await load([edited, ENV]);
    expect(again.version()).toBe(2);
    expect(events('config.override_superseded')).toHaveLength(1);
  });

  it('does not count key order in the files as a change', async () => {
    const a: ConfigLayer = { name: 'f', document: { scorer: { languages: ['en'] }, quiet_hours: null } };
    const b: ConfigLayer = { name: 'f', document: { quiet_hours: null, scorer: { languages: ['en'] } } };
    await (await load([a, ENV])).update(change({ runtime: { automation_mode: 'priority' } }, 0));
    expect((await load([b, ENV])).current().runtime.automation_mode).toBe('priority');
  });

  it('migrates a stored override of an older schema_version forward on read', async () => {
    await configVersionsRepo.insert(handle.db, {
      version: 1,
      schema_version: 1,
      // The synthetic version-1 shape named the mode `mode` at the top level.
      document: JSON.stringify({ mode: 'priority' }),
      base_hash: hashLayers([FILE]),
      actor: 'old',
      reason: 'test',
      changed_keys: '[]',
      created_at: clock.now(),
    });
    const store = await load([FILE, ENV], {
      migrations: {
        current: 2,
        steps: {
          1: ({ mode, ...rest }: Record<string, unknown>) => ({
            ...rest,
            runtime: { automation_mode: mode },
          }),
        },
      },
    });
    expect(store.current().runtime.automation_mode).toBe('priority');
    expect(store.override()).toEqual({ runtime: { automation_mode: 'priority' } });
  });

  it('sets aside a stored override this daemon cannot use, and says so', async () => {
    await configVersionsRepo.insert(handle.db, {
      version: 1,
      schema_version: 1,
      document: JSON.stringify({ runtime: { automation_mode: 'sideways' } }),
      base_hash: hashLayers([FILE]),
      actor: 'old',
      reason: 'test',
      changed_keys: '[]',
      created_at: clock.now(),
    });
    const store = await load();
    expect(store.current().runtime.automation_mode).toBe('assisted');
    expect(store.version()).toBe(1);
    expect(events('config.override_unusable')).toHaveLength(1);
  });
});
