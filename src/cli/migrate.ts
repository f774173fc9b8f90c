// `migrate`: applies pending migrations and exits.
import { openStore } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import {
  type CliContext,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  loadConfigOrReport,
  parseFlags,
} from './context.js';
import { USAGE } from './usage.js';

export async function migrateCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, {});
  if (flags.values.help) {
    ctx.stdout.write(USAGE.migrate as string);
    return EXIT_OK;
  }
  const loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;
  const handle = openStore(loaded.config.database);
  try {
    const { applied } = await migrateToLatest(handle.db);
    ctx.stdout.write(
      applied.length === 0 ? 'migrations: already current\n' : `migrations applied: ${applied.join(', ')}\n`,
    );
    return EXIT_OK;
  } catch (err) {
    ctx.stderr.write(`native-whatsapp: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  } finally {
    await handle.close();
  }
}
