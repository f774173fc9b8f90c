// Migrations on both engines (SPEC §10): every migration applies to an empty database once, and on
// PostgreSQL several instances starting at once serialise on an advisory lock: each starter succeeds,
// the migrations are applied exactly once, and the schema is the same as one lone starter makes.
import { describe, expect, it } from 'vitest';
import { openDatabase, openPostgres } from '../../src/store/db.js';
import { knownMigrations, migrateToLatest, pendingMigrations } from '../../src/store/migrate.js';
import { createEmptyPostgresDatabase, engines } from '../helpers/engines.js';

describe('migrations on SQLite', () => {
  it('apply to an empty database once; a second run has nothing to apply', async () => {
    const handle = openDatabase(':memory:');
    try {
      expect((await migrateToLatest(handle.db)).applied).toEqual(knownMigrations);
      expect((await migrateToLatest(handle.db)).applied).toEqual([]);
      expect(await pendingMigrations(handle.db)).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});

describe.runIf(engines.includes('postgres'))('migrations on PostgreSQL', () => {
  it('two starters racing on one empty database both succeed and apply each migration once', async () => {
    for (let round = 0; round < 3; round++) {
      const empty = await createEmptyPostgresDatabase();
      // Two instances: two pools, so the race is between separate server sessions.
      const a = openPostgres(empty.url);
      const b = openPostgres(empty.url);
      try {
        const [ra, rb] = await Promise.all([migrateToLatest(a.db), migrateToLatest(b.db)]);
        expect([...ra.applied, ...rb.applied].sort()).toEqual([...knownMigrations].sort());
        expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, knownMigrations.length]);
        const { rows } = await a.pool.query<{ name: string; n: string }>(
          'select name, count(*) as n from kysely_migration group by name order by name',
        );
        expect(rows.map((r) => r.name)).toEqual([...knownMigrations].sort());
        expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
        expect(await pendingMigrations(b.db)).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await empty.drop();
      }
    }
  });

  it('translates the SQLite schema: real is double precision, autoincrement an identity column', async () => {
    const empty = await createEmptyPostgresDatabase();
    const h = openPostgres(empty.url);
    try {
      await migrateToLatest(h.db);
      const { rows } = await h.pool.query<{
        table_name: string;
        column_name: string;
        data_type: string;
        is_identity: string;
      }>(
        `select table_name, column_name, data_type, is_identity from information_schema.columns
         where table_schema = 'public' and (data_type = 'real' or is_identity = 'YES' or column_name = 'rate_per_second')
         order by table_name, column_name`,
      );
      expect(rows.filter((r) => r.data_type === 'real')).toEqual([]);
      expect(rows.find((r) => r.column_name === 'rate_per_second')?.data_type).toBe('double precision');
      expect(
        rows.filter((r) => r.is_identity === 'YES').map((r) => `${r.table_name}.${r.column_name}`),
      ).toEqual(expect.arrayContaining(['agents.id', 'domain_events.seq']));
    } finally {
      await h.close();
      await empty.drop();
    }
  });
});
