// `backup FILE`: an online, consistent copy through SQLite's backup API, safe while the daemon runs.
// On PostgreSQL the server's own tool does this job better (consistent, compressed, restorable by
// pg_restore), so the command says how instead of half-doing it.
import { existsSync } from 'node:fs';
import { backupDatabase, openDatabase } from '../store/db.js';
import {
  type CliContext,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  loadConfigOrReport,
  parseFlags,
  UsageError,
} from './context.js';
import { missingDatabase } from './database.js';
import { USAGE } from './usage.js';

export async function backupCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, { force: { type: 'boolean' } }, true);
  if (flags.values.help) {
    ctx.stdout.write(USAGE.backup as string);
    return EXIT_OK;
  }
  if (flags.positionals.length !== 1) throw new UsageError('backup needs exactly one FILE');
  const target = flags.positionals[0] as string;
  const loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;
  if (loaded.config.database.url) {
    ctx.stderr.write(
      'native-whatsapp: backup copies the SQLite file; this daemon runs on PostgreSQL (database.url / DATABASE_URL).\n' +
        `Back it up with PostgreSQL's own tool while the daemon runs, e.g.:\n  pg_dump --format=custom --file ${target} "$DATABASE_URL"\n` +
        'and restore with pg_restore --clean --dbname "$DATABASE_URL" FILE\n',
    );
    return EXIT_USAGE;
  }
  const source = loaded.config.database.path;
  if (source === ':memory:' || !existsSync(source)) {
    ctx.stderr.write(`native-whatsapp: nothing to back up: ${missingDatabase(source)}\n`);
    return EXIT_FAILURE;
  }
  if (existsSync(target) && !flags.values.force) {
    ctx.stderr.write(`native-whatsapp: ${target} exists; add --force to overwrite it\n`);
    return EXIT_FAILURE;
  }
  const handle = openDatabase(source, { busyTimeoutMs: loaded.config.database.busy_timeout });
  try {
    const { pages } = await backupDatabase(handle, target);
    ctx.stdout.write(`backed up ${source} to ${target} (${pages} pages)\n`);
    return EXIT_OK;
  } catch (err) {
    ctx.stderr.write(`native-whatsapp: backup failed: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  } finally {
    await handle.close();
  }
}
