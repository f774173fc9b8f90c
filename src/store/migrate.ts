// Runs the forward-only migrations of migrations/index.ts with Kysely's Migrator, on either engine.
// On PostgreSQL several instances may start at once (SPEC §10): the whole run, the creation of
// Kysely's own bookkeeping tables included, is serialised on a session advisory lock, so the second
// starter waits and then finds nothing left to apply.
import { type MigrationResultSet, Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.js';
import type { Db } from './db.js';
import { engineOf, postgresSchemaPlugin } from './dialect.js';

/** pg_advisory_lock key for migrations: an arbitrary constant, ours alone ("nw-migrate" as bytes). */
const MIGRATION_LOCK_KEY = 0x6e772d6d69677261n;

function migrator(db: Db): Migrator {
  // The migrations were written for SQLite; on PostgreSQL their schema statements are translated.
  const target = engineOf(db) === 'postgres' ? db.withPlugin(postgresSchemaPlugin) : db;
  return new Migrator({ db: target, provider: { getMigrations: async () => migrations } });
}

export interface MigrationOutcome {
  applied: string[];
}

export async function migrateToLatest(db: Db): Promise<MigrationOutcome> {
  const result: MigrationResultSet =
    engineOf(db) === 'postgres'
      ? await db.connection().execute(async (conn) => {
          await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
          try {
            return await migrator(conn).migrateToLatest();
          } finally {
            await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn);
          }
        })
      : await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(result.error as Error).message ?? String(result.error)}`);
  }
  return {
    applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
  };
}

/** Names of migrations that exist in the code but not yet in the database. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const infos = await migrator(db).getMigrations();
  return infos.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

export const knownMigrations = Object.keys(migrations);
