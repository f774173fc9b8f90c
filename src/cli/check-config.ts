// `check-config`: validates every source and prints the effective configuration (secrets redacted
// unless --show-secrets, to a terminal or with --force, asks for them), including what was stored
// through the management API (unless --files-only), and says which layer each value came from.
import { existsSync } from 'node:fs';
import { readGeneratedSecrets } from '../auth/bootstrap.js';
import { configToDocument } from '../config/display.js';
import { ConfigError, type LoadedConfig, resolveConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import { readStoredLayer, valueSources, withStoredLayer } from '../config/stored-layer.js';
import { openDatabase, openStore } from '../store/db.js';
import { type CliContext, EXIT_OK, EXIT_USAGE, loadConfigOrReport, parseFlags } from './context.js';
import { USAGE } from './usage.js';

export async function checkConfigCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, {
    'show-secrets': { type: 'boolean' },
    force: { type: 'boolean' },
    'files-only': { type: 'boolean' },
  });
  if (flags.values.help) {
    ctx.stdout.write(USAGE['check-config'] as string);
    return EXIT_OK;
  }
  const showSecrets = flags.values['show-secrets'] === true;
  if (showSecrets && !ctx.stdout.isTTY && !flags.values.force) {
    ctx.stderr.write(
      'native-whatsapp: --show-secrets prints secrets only to a terminal; add --force to print them anyway\n',
    );
    return EXIT_USAGE;
  }
  let loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;

  // The database is only read (never created): the stored management layer and generated secrets.
  const dbPath = loaded.config.database.path;
  const handle = loaded.config.database.url
    ? openStore(loaded.config.database, { readonly: true })
    : dbPath !== ':memory:' && existsSync(dbPath)
      ? openDatabase(dbPath, { readonly: true })
      : undefined;
  const notes: string[] = [];
  let generated: { appSecret?: string; verifyToken?: string } = {};
  try {
    if (flags.values['files-only']) {
      notes.push('--files-only: the management layer stored in the database is left out');
    } else if (!handle) {
      notes.push(`no database at ${dbPath}: no stored management layer to include`);
    } else {
      const stored = await readStoredLayer(handle.db, loaded.sources).catch((err: Error) => ({
        layer: undefined,
        note: `the stored management layer cannot be read: ${err.message}`,
      }));
      if (stored.note) notes.push(stored.note);
      if (stored.layer) {
        try {
          loaded = resolveConfig(withStoredLayer(loaded.sources, stored.layer));
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          // The daemon would set such an override aside too (config.override_unusable).
          notes.push(
            `${stored.layer.name} cannot be used with this configuration and is left out:\n${err.message}`,
          );
        }
      }
    }
    if (showSecrets && handle) generated = await readGeneratedSecrets(handle.db).catch(() => ({}));
  } finally {
    await handle?.close();
  }

  const document = configToDocument(loaded.config);
  if (showSecrets) {
    // Generated webhook secrets live in the database; show them where no configured value exists.
    const channels = document.channels as Record<string, unknown>;
    if (channels.app_secret === undefined && generated.appSecret) channels.app_secret = generated.appSecret;
    if (channels.verify_token === undefined && generated.verifyToken)
      channels.verify_token = generated.verifyToken;
  }
  ctx.stdout.write(`${JSON.stringify(showSecrets ? document : redactConfig(document), null, 2)}\n`);
  ctx.stderr.write(describeLayers(loaded, notes));
  return EXIT_OK;
}

/** Where each value came from, for the operator (stderr, so stdout stays the JSON document). */
function describeLayers(loaded: LoadedConfig, notes: string[]): string {
  const names = ['built-in defaults', ...loaded.sources.map((l) => l.name)];
  const sources = valueSources(loaded.sources);
  const width = Math.min(48, Math.max(0, ...sources.map((s) => s.path.length)));
  return [
    `layers, later wins: ${names.join(' < ')}`,
    ...notes.map((n) => `note: ${n}`),
    'values set by a layer (everything else is a built-in default):',
    ...sources.map((s) => `  ${s.path.padEnd(width)}  ${s.source}`),
    'configuration is valid',
    '',
  ].join('\n');
}
