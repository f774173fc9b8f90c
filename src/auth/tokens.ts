// API tokens: creation (shown once), hashing, lookup. Tokens are "nwa_" + 43 base64url characters
// (256 random bits); only their SHA-256 is stored.
import { createHash } from 'node:crypto';
import type { IdSource, RandomSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { type TokenRow, tokensRepo } from '../store/tokens-repo.js';

export type Tier = 'standard' | 'root';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newTokenValue(random: RandomSource): string {
  return `nwa_${Buffer.from(random(32)).toString('base64url')}`;
}

export interface CreatedToken {
  id: string;
  name: string;
  tier: Tier;
  token: string;
  created_at: number;
}

export async function createToken(
  db: Db,
  deps: { ids: IdSource; random: RandomSource; now: number },
  input: { tier: Tier; name: string; value?: string },
): Promise<CreatedToken> {
  const token = input.value ?? newTokenValue(deps.random);
  const row: TokenRow = {
    id: deps.ids.next(),
    name: input.name,
    tier: input.tier,
    token_hash: hashToken(token),
    prefix: token.slice(0, 8),
    created_at: deps.now,
    last_used_at: null,
    revoked_at: null,
  };
  await tokensRepo.insert(db, row);
  return { id: row.id, name: row.name, tier: row.tier, token, created_at: row.created_at };
}

export async function authenticate(db: Db, token: string): Promise<TokenRow | undefined> {
  if (token.length < 8 || token.length > 512) return undefined;
  return tokensRepo.findActiveByHash(db, hashToken(token));
}

/** Every token's name by id, revoked ones too: the audit log names its actors by token id. */
export async function tokenNames(db: Db): Promise<Map<string, string>> {
  return new Map((await tokensRepo.list(db)).map((t) => [t.id, t.name]));
}

export function tierAllows(have: Tier, need: Tier): boolean {
  return need === 'standard' || have === 'root';
}
