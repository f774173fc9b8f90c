// `simulate [--scenario NAME] [--url URL]`: signs built-in sample webhooks with the app secret (the
// configured one, else the one the daemon generated and stored) and posts them to a running daemon,
// printing each status code. A way to see conversations without a Meta account.
import { existsSync } from 'node:fs';
import { readGeneratedSecrets } from '../auth/bootstrap.js';
import { systemClock } from '../lib/clock.js';
import { createIdSource } from '../lib/ids.js';
import { openDatabase } from '../store/db.js';
import { SCENARIOS } from '../webhook/sample-deliveries.js';
import { signBody } from '../webhook/signature.js';
import {
  type CliContext,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  loadConfigOrReport,
  parseFlags,
  UsageError,
} from './context.js';
import { USAGE } from './usage.js';

export async function simulateCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, {
    scenario: { type: 'string' },
    url: { type: 'string' },
    list: { type: 'boolean' },
  });
  if (flags.values.help) {
    ctx.stdout.write(USAGE.simulate as string);
    return EXIT_OK;
  }
  if (flags.values.list) {
    for (const [name, s] of Object.entries(SCENARIOS)) ctx.stdout.write(`${name}\t${s.description}\n`);
    return EXIT_OK;
  }
  const name = flags.values.scenario ?? 'default';
  const scenario = SCENARIOS[name];
  if (!scenario) {
    throw new UsageError(`unknown scenario "${name}"; choose one of: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  const loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;
  const { config } = loaded;

  let base: URL;
  try {
    base = new URL(flags.values.url ?? `http://${urlHost(config.server.host)}:${config.server.port}`);
  } catch {
    throw new UsageError(`--url must be a URL such as http://127.0.0.1:8080, not "${flags.values.url}"`);
  }
  const secret = config.channels.app_secret ?? (await storedAppSecret(config.database.path));
  if (!secret) {
    ctx.stderr.write(
      'native-whatsapp: no app secret to sign with: set WHATSAPP_APP_SECRET, or start the daemon once with this configuration so it generates and stores one\n',
    );
    return EXIT_FAILURE;
  }

  const ids = createIdSource(systemClock);
  const deliveries = scenario.build({
    now: systemClock.now(),
    phoneNumberId: config.channels.phone_number_id,
    uniqueId: () => `SIM${ids.next()}`,
  });
  const target = new URL('/webhooks/whatsapp', base);
  ctx.stdout.write(`posting ${deliveries.length} signed deliveries (scenario "${name}") to ${target}\n`);
  let failures = 0;
  for (const [i, d] of deliveries.entries()) {
    const body = Buffer.from(d.body, 'utf8');
    let line: string;
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, secret) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const answer = await res.text();
      if (res.status !== 200) failures += 1;
      line = `${res.status}${res.status === 200 ? '' : ` ${answer.slice(0, 200)}`}`;
      if (res.status === 401) {
        line +=
          ' (the daemon uses another app secret: run simulate with the same configuration and database)';
      }
    } catch (err) {
      ctx.stderr.write(
        `native-whatsapp: cannot reach ${target}: ${(err as Error).message}; is the daemon running (npm start)?\n`,
      );
      return EXIT_FAILURE;
    }
    ctx.stdout.write(`  ${String(i + 1).padStart(2)}. ${d.label} → ${line}\n`);
  }
  ctx.stdout.write(
    failures === 0
      ? `all ${deliveries.length} accepted. See them: GET ${new URL('/api/extensions/native-whatsapp/runtime/conversations', base)} with a bearer token\n`
      : `${failures} of ${deliveries.length} not accepted\n`,
  );
  return failures === 0 ? EXIT_OK : EXIT_FAILURE;
}

async function storedAppSecret(dbPath: string): Promise<string | undefined> {
  if (dbPath === ':memory:' || !existsSync(dbPath)) return undefined;
  const handle = openDatabase(dbPath, { readonly: true });
  try {
    return (await readGeneratedSecrets(handle.db).catch(() => ({ appSecret: undefined }))).appSecret;
  } finally {
    await handle.close();
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
