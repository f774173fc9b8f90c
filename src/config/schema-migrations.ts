// Config documents carry a schema_version. A document stored by an older version of the daemon (a
// management override in config_versions) is migrated forward step by step when it is read, so a
// schema change never strands an operator's stored settings.
import { AppError } from '../lib/app-error.js';
import { CURRENT_SCHEMA_VERSION } from './schema.js';

export type ConfigDocumentMigration = (doc: Record<string, unknown>) => Record<string, unknown>;

/**
 * STEPS[n] turns a document of schema_version n into one of n + 1. Version 1 is the first schema,
 * so there is no step yet; add one here (and bump CURRENT_SCHEMA_VERSION) with each breaking change.
 */
export const CONFIG_MIGRATIONS: Readonly<Record<number, ConfigDocumentMigration>> = Object.freeze({});

export interface MigrationTable {
  steps: Readonly<Record<number, ConfigDocumentMigration>>;
  current: number;
}

/**
 * The document migrated from `from` to the current schema version, without its schema_version key
 * (the caller records the version beside the document). Throws for a version newer than this code
 * knows or one with no path forward.
 */
export function migrateConfigDocument(
  doc: Record<string, unknown>,
  from: number,
  table: MigrationTable = { steps: CONFIG_MIGRATIONS, current: CURRENT_SCHEMA_VERSION },
): Record<string, unknown> {
  if (!Number.isInteger(from) || from < 1) {
    throw new AppError('validation_failed', `schema_version ${from} is not a schema version`, [
      { path: 'schema_version', message: 'must be a whole number from 1' },
    ]);
  }
  if (from > table.current) {
    throw new AppError(
      'validation_failed',
      `schema_version ${from} is newer than this daemon understands (${table.current}); upgrade the daemon`,
      [{ path: 'schema_version', message: `must be at most ${table.current}` }],
    );
  }
  const { schema_version: _ignored, ...rest } = doc;
  let out: Record<string, unknown> = structuredClone(rest);
  for (let v = from; v < table.current; v++) {
    const step = table.steps[v];
    if (!step) {
      throw new AppError('validation_failed', `no migration from config schema_version ${v} to ${v + 1}`, [
        { path: 'schema_version', message: `cannot be migrated from ${v}` },
      ]);
    }
    out = step(out);
  }
  return out;
}
