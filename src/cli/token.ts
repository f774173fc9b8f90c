// `token create|list|revoke`: API tokens, stored hashed; a new token is printed once.
import { createToken } from '../auth/tokens.js';
import { systemClock, toIso } from '../lib/clock.js';
import { createIdSource, cryptoRandom } from '../lib/ids.js';
import { auditRepo } from '../store/audit-repo.js';
import { migrateToLatest } from '../store/migrate.js';
import { tokensRepo } from '../store/tokens-repo.js';
import {
  type CliContext,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  loadConfigOrReport,
  parseFlags,
  UsageError,
} from './context.js';
import { openExistingDatabase } from './database.js';
import { USAGE } from './usage.js';

export async function tokenCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(
    ctx.args,
    { tier: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  const [sub, ...rest] = flags.positionals;
  if (flags.values.help || sub === undefined) {
    (sub === undefined && !flags.values.help ? ctx.stderr : ctx.stdout).write(USAGE.token as string);
    return flags.values.help ? EXIT_OK : EXIT_USAGE;
  }
  if (!['create', 'list', 'revoke'].includes(sub)) throw new UsageError(`unknown token command "${sub}"`);
  if (sub === 'create' && !['standard', 'root'].includes(flags.values.tier ?? '')) {
    throw new UsageError('token create needs --tier standard or --tier root');
  }
  if (sub === 'revoke' && rest.length !== 1) throw new UsageError('token revoke needs exactly one token id');
  if (sub !== 'revoke' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);

  const loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;
  const handle = openExistingDatabase(ctx, loaded.config);
  if (!handle) return EXIT_FAILURE;
  try {
    await migrateToLatest(handle.db);
    const now = systemClock.now();
    const ids = createIdSource(systemClock);
    const audit = (action: string, details: Record<string, unknown>) =>
      auditRepo.record(handle.db, {
        id: ids.next(),
        actor: 'cli',
        action,
        details: JSON.stringify(details),
        at: now,
      });
    if (sub === 'create') {
      const tier = flags.values.tier as 'standard' | 'root';
      const name = flags.values.name ?? `${tier}-${toIso(now).slice(0, 10)}`;
      const created = await createToken(handle.db, { ids, random: cryptoRandom, now }, { tier, name });
      await audit('token.create', { token_id: created.id, tier, name });
      ctx.stdout.write(`${created.token}\n`);
      ctx.stderr.write(`created ${tier} token ${created.id} (${name}); it is shown only this once\n`);
      return EXIT_OK;
    }
    if (sub === 'list') {
      const rows = await tokensRepo.list(handle.db);
      const items = rows.map((r) => ({
        id: r.id,
        name: r.name,
        tier: r.tier,
        prefix: r.prefix,
        created_at: toIso(r.created_at),
        last_used_at: r.last_used_at === null ? null : toIso(r.last_used_at),
        revoked_at: r.revoked_at === null ? null : toIso(r.revoked_at),
      }));
      if (flags.values.json) {
        ctx.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      } else {
        ctx.stdout.write('ID                          TIER      PREFIX    STATE    NAME\n');
        for (const t of items) {
          ctx.stdout.write(
            `${t.id}  ${t.tier.padEnd(8)}  ${t.prefix.padEnd(8)}  ${(t.revoked_at ? 'revoked' : 'active').padEnd(7)}  ${t.name}\n`,
          );
        }
      }
      return EXIT_OK;
    }
    const id = rest[0] as string;
    if (await tokensRepo.revoke(handle.db, id, now)) {
      await audit('token.revoke', { token_id: id });
      ctx.stdout.write(`revoked ${id}\n`);
      return EXIT_OK;
    }
    ctx.stderr.write(`native-whatsapp: no active token with id ${id}\n`);
    return EXIT_FAILURE;
  } finally {
    await handle.close();
  }
}
