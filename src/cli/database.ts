// The daemon's database as the CLI opens it. Only `serve` and `migrate` create a database: every
// other command run from the wrong directory (or with another DATABASE_PATH) would otherwise make a
// new, empty one there and answer from it as if nothing were wrong.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { type OpenedDatabase, openDatabase, openStore } from '../store/db.js';
import type { CliContext } from './context.js';

/** The database at the configured path, or undefined after saying why there is none (caller exits 1). */
export function openExistingDatabase(
  ctx: CliContext,
  config: Config,
  options: { readonly?: boolean } = {},
): OpenedDatabase | undefined {
  // A PostgreSQL database is only ever created by its operator; a wrong URL fails on first query.
  if (config.database.url) return openStore(config.database, { readonly: options.readonly });
  const file = config.database.path;
  if (file === ':memory:' || !existsSync(file)) {
    ctx.stderr.write(`native-whatsapp: ${missingDatabase(file)}\n`);
    return undefined;
  }
  return openDatabase(file, { busyTimeoutMs: config.database.busy_timeout, readonly: options.readonly });
}

export function missingDatabase(file: string): string {
  if (file === ':memory:') return 'the database is ":memory:": there is no stored database to open';
  return (
    `no database at ${path.resolve(file)}; this command does not create one. Run it from the directory ` +
    'the daemon runs in, or set DATABASE_PATH to the daemon’s database (only "serve" and "migrate" create a new one)'
  );
}
