// `simulate [--scenario NAME] [--url URL]`: signs built-in sample webhooks with the app secret (the
// configured one, else the one the daemon generated and stored) and posts them to a running daemon,
// printing each status code. A way to see conversations without a Meta account.
import { existsSync } from 'node:fs';
import { readGeneratedSecrets } from '../auth/bootstrap.js';
import { createToken } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';
import { systemClock } from '../lib/clock.js';
import { createIdSource, cryptoRandom, type IdSource } from '../lib/ids.js';
import { auditRepo } from '../store/audit-repo.js';
import { type DatabaseTarget, openDatabase, openStore } from '../store/db.js';
import { tokensRepo } from '../store/tokens-repo.js';
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
import { missingDatabase, openExistingDatabase } from './database.js';
import { type DemoIo, prepareDemo, reportDemo } from './simulate-demo.js';
import { USAGE } from './usage.js';

export async function simulateCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, {
    scenario: { type: 'string' },
    url: { type: 'string' },
    list: { type: 'boolean' },
    token: { type: 'string' },
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
  const secret = config.channels.app_secret ?? (await storedAppSecret(config.database));
  if (!secret) {
    const db = config.database.path;
    ctx.stderr.write(
      `native-whatsapp: no app secret to sign with: set WHATSAPP_APP_SECRET as the daemon has it, or ${
        db === ':memory:' || !existsSync(db)
          ? missingDatabase(db)
          : 'start the daemon once with this configuration so it generates and stores one'
      }\n`,
    );
    return EXIT_FAILURE;
  }

  const ids = createIdSource(systemClock);
  // The demo acts through the API as an operator would: with --token, else a root token made for this
  // run in the daemon's database (like `token create`) and revoked when it is done.
  let demo: { io: DemoIo; done: () => Promise<void> } | undefined;
  if (name === 'demo') {
    const access = await demoToken(ctx, loaded.config, flags.values.token);
    if (!access) return EXIT_FAILURE;
    demo = {
      io: {
        base,
        token: access.token,
        out: (line) => ctx.stdout.write(`${line}\n`),
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      },
      done: access.revoke,
    };
  }
  try {
    if (demo) await prepareDemo(demo.io, config.channels.phone_number_id);
    const runAt = systemClock.now();
    const code = await post(ctx, name, scenario, {
      now: runAt,
      base,
      secret,
      ids,
      phoneNumberId: config.channels.phone_number_id,
    });
    if (code !== EXIT_OK || !demo) return code;
    return (await reportDemo(demo.io, runAt)) ? EXIT_OK : EXIT_FAILURE;
  } catch (err) {
    ctx.stderr.write(`native-whatsapp: ${unreachable(base, err)}\n`);
    return EXIT_FAILURE;
  } finally {
    await demo?.done();
  }
}

/** Why a request to the daemon failed, with what to do when nothing listens there. */
function unreachable(base: URL, err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.cause?.code === 'ECONNREFUSED' || e.name === 'TimeoutError' || e.message === 'fetch failed') {
    return (
      `cannot reach the daemon at ${base.origin} (${e.cause?.code ?? e.message}). Is it running (npm start)? ` +
      'If it listens elsewhere, point simulate at it: --url http://127.0.0.1:PORT (or the same PORT/HOST the daemon has)'
    );
  }
  return e.message;
}

async function post(
  ctx: CliContext,
  name: string,
  scenario: (typeof SCENARIOS)[string],
  target: { now: number; base: URL; secret: string; ids: IdSource; phoneNumberId: string },
): Promise<number> {
  const deliveries = scenario.build({
    now: target.now,
    phoneNumberId: target.phoneNumberId,
    uniqueId: () => `SIM${target.ids.next()}`,
  });
  const url = new URL('/webhooks/whatsapp', target.base);
  ctx.stdout.write(
    `posting ${plural(deliveries.length, 'signed delivery', 'signed deliveries')} (scenario "${name}") to ${url}\n`,
  );
  let failures = 0;
  for (const [i, d] of deliveries.entries()) {
    const body = Buffer.from(d.body, 'utf8');
    // A failure to connect throws: the caller explains it (with --url) and nothing else is tried.
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signBody(body, target.secret),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = await res.text();
    if (res.status !== 200) failures += 1;
    let line = `${res.status}${res.status === 200 ? '' : ` ${answer.slice(0, 200)}`}`;
    if (res.status === 401) {
      line += ' (the daemon uses another app secret: run simulate with the same configuration and database)';
    }
    ctx.stdout.write(`  ${String(i + 1).padStart(2)}. ${d.label} → ${line}\n`);
  }
  const n = deliveries.length;
  ctx.stdout.write(
    failures === 0
      ? `${n === 1 ? 'it was' : `all ${n} were`} accepted. See them: GET ${new URL('/api/extensions/native-whatsapp/runtime/conversations', target.base)} with a bearer token\n`
      : `${failures} of ${plural(n, 'delivery', 'deliveries')} not accepted\n`,
  );
  return failures === 0 ? EXIT_OK : EXIT_FAILURE;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A root token for the demo: the given one, else one made now in the database and revoked after. */
async function demoToken(
  ctx: CliContext,
  config: Config,
  given: string | undefined,
): Promise<{ token: string; revoke: () => Promise<void> } | undefined> {
  const fromEnv = given ?? ctx.env.API_ROOT_TOKEN;
  if (fromEnv) return { token: fromEnv, revoke: async () => undefined };
  const handle = openExistingDatabase(ctx, config);
  if (!handle) return undefined;
  try {
    const now = systemClock.now();
    const ids = createIdSource(systemClock);
    const created = await createToken(
      handle.db,
      { ids, random: cryptoRandom, now },
      { tier: 'root', name: 'simulate-demo (revoked when the demo ends)' },
    );
    await auditRepo.record(handle.db, {
      id: ids.next(),
      actor: 'cli',
      action: 'token.create',
      details: JSON.stringify({ token_id: created.id, tier: 'root', name: created.name }),
      at: now,
    });
    return {
      token: created.token,
      revoke: async () => {
        const again = openExistingDatabase(ctx, config);
        if (!again) return;
        try {
          await tokensRepo.revoke(again.db, created.id, systemClock.now());
        } finally {
          await again.close();
        }
      },
    };
  } finally {
    await handle.close();
  }
}

async function storedAppSecret(target: DatabaseTarget): Promise<string | undefined> {
  const dbPath = target.path;
  if (!target.url && (dbPath === ':memory:' || !existsSync(dbPath))) return undefined;
  const handle = target.url
    ? openStore(target, { readonly: true })
    : openDatabase(dbPath, { readonly: true });
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
