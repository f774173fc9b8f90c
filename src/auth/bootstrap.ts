// Secure by default: the daemon never runs without an app secret, a verify token or an API token.
// Missing ones are generated on first start and stored; the environment's API_*_TOKEN values are
// stored as hashes so they work like any other token.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource, RandomSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { settingsRepo } from '../store/settings-repo.js';
import { tokensRepo } from '../store/tokens-repo.js';
import { createToken, hashToken } from './tokens.js';

export interface ChannelSecrets {
  appSecret: string;
  verifyToken: string;
  /** Which of them were generated and stored by the daemon (not configured). */
  generated: { appSecret: boolean; verifyToken: boolean };
}

const APP_SECRET_KEY = 'generated.app_secret';
const VERIFY_TOKEN_KEY = 'generated.verify_token';

/** The configured secrets, else the stored generated ones, else new ones (stored before use). */
export async function resolveChannelSecrets(
  db: Db,
  config: Config,
  deps: { random: RandomSource; clock: Clock },
): Promise<ChannelSecrets> {
  const now = deps.clock.now();
  const gen = () => Buffer.from(deps.random(24)).toString('base64url');
  const appSecret =
    config.channels.app_secret ?? (await settingsRepo.putIfAbsent(db, APP_SECRET_KEY, gen(), now));
  const verifyToken =
    config.channels.verify_token ?? (await settingsRepo.putIfAbsent(db, VERIFY_TOKEN_KEY, gen(), now));
  return {
    appSecret,
    verifyToken,
    generated: {
      appSecret: config.channels.app_secret === undefined,
      verifyToken: config.channels.verify_token === undefined,
    },
  };
}

/** Reads the stored generated secrets without creating any (for check-config). */
export async function readGeneratedSecrets(db: Db): Promise<{ appSecret?: string; verifyToken?: string }> {
  return {
    appSecret: await settingsRepo.get(db, APP_SECRET_KEY),
    verifyToken: await settingsRepo.get(db, VERIFY_TOKEN_KEY),
  };
}

export interface BootstrapTokens {
  /** A root token created because none existed; print it once. */
  createdRootToken?: string;
}

export async function bootstrapTokens(
  db: Db,
  env: { rootToken?: string; standardToken?: string },
  deps: { ids: IdSource; random: RandomSource; clock: Clock; logger: Logger },
): Promise<BootstrapTokens> {
  const now = deps.clock.now();
  for (const [value, tier, name] of [
    [env.rootToken, 'root', 'env:API_ROOT_TOKEN'],
    [env.standardToken, 'standard', 'env:API_STANDARD_TOKEN'],
  ] as const) {
    if (!value) continue;
    if (value.length < 16) {
      deps.logger.warn(
        { event: 'auth.bootstrap_token_ignored', name },
        `${name} is shorter than 16 characters; ignored`,
      );
      continue;
    }
    if (!(await tokensRepo.findByHash(db, hashToken(value)))) {
      await createToken(db, { ids: deps.ids, random: deps.random, now }, { tier, name, value });
      deps.logger.info(
        { event: 'auth.bootstrap_token_stored', name, tier },
        'stored API token from the environment (hashed)',
      );
    }
  }
  if ((await tokensRepo.count(db)) > 0) return {};
  const created = await createToken(
    db,
    { ids: deps.ids, random: deps.random, now },
    { tier: 'root', name: 'first-root' },
  );
  deps.logger.warn(
    { event: 'auth.root_token_created', token_id: created.id },
    'no API token existed: created a root token and printed it once to stderr',
  );
  return { createdRootToken: created.token };
}
