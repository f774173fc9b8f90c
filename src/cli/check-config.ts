// `check-config`: validates every source and prints the effective configuration, secrets redacted
// unless --show-secrets (to a terminal, or with --force) asks for them.
import { existsSync } from 'node:fs';
import { readGeneratedSecrets } from '../auth/bootstrap.js';
import { configToDocument } from '../config/display.js';
import { redactConfig } from '../config/redact.js';
import { openDatabase } from '../store/db.js';
import { type CliContext, EXIT_OK, EXIT_USAGE, loadConfigOrReport, parseFlags } from './context.js';
import { USAGE } from './usage.js';

export async function checkConfigCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, { 'show-secrets': { type: 'boolean' }, force: { type: 'boolean' } });
  if (flags.values.help) {
    ctx.stdout.write(USAGE['check-config'] as string);
    return EXIT_OK;
  }
  const loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;
  const document = configToDocument(loaded.config);

  if (!flags.values['show-secrets']) {
    ctx.stdout.write(`${JSON.stringify(redactConfig(document), null, 2)}\n`);
    ctx.stderr.write('configuration is valid\n');
    return EXIT_OK;
  }
  if (!ctx.stdout.isTTY && !flags.values.force) {
    ctx.stderr.write(
      'native-whatsapp: --show-secrets prints secrets only to a terminal; add --force to print them anyway\n',
    );
    return EXIT_USAGE;
  }
  // Generated webhook secrets live in the database; show them where no configured value exists.
  const channels = document.channels as Record<string, unknown>;
  const dbPath = loaded.config.database.path;
  if (dbPath !== ':memory:' && existsSync(dbPath)) {
    const handle = openDatabase(dbPath, { readonly: true });
    try {
      const generated = await readGeneratedSecrets(handle.db).catch(
        () => ({}) as Record<string, string | undefined>,
      );
      if (channels.app_secret === undefined && generated.appSecret) channels.app_secret = generated.appSecret;
      if (channels.verify_token === undefined && generated.verifyToken)
        channels.verify_token = generated.verifyToken;
    } finally {
      await handle.close();
    }
  }
  ctx.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return EXIT_OK;
}
