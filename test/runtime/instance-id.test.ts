// Which daemon answered (SPEC §10): an id set per instance is the one health and metrics name; without
// one, a daemon alone on its SQLite file keeps the id stored there across restarts.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function healthId(t: TestApp): Promise<string> {
  const res = await t.request('/healthz', { token: null });
  return ((await res.json()) as { instance_id: string }).instance_id;
}

describe('instance id', () => {
  it('is the configured server.instance_id (INSTANCE_ID) when set', async () => {
    const t = await createTestApp({ config: { server: { instance_id: 'web-2' } } });
    apps.push(t);
    expect(await healthId(t)).toBe('web-2');
    expect(await t.deps.metrics.render()).toContain('instance_id="web-2"');
  });

  it('is kept in the SQLite file across a restart when not configured', async () => {
    const first = await createTestApp({ engine: 'sqlite', start: '2026-01-05T08:00:00Z' });
    const id = await healthId(first);
    await first.daemon.stop();
    const second = await createTestApp({
      databaseOf: first,
      start: '2026-01-06T08:00:00Z', // ids come from the clock: a later start mints no id twice
    });
    apps.push(second, first);
    expect(await healthId(second)).toBe(id);
  });

  it('refuses an id that is no plain name', async () => {
    await expect(createTestApp({ config: { server: { instance_id: 'a b/c' } } })).rejects.toThrow(
      /server\.instance_id/,
    );
  });
});
