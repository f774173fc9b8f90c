// Dashboard sign-in (SPEC §13): an API token is exchanged once for a session whose random secret
// travels only in an HttpOnly cookie; the database keeps the secret's SHA-256. The CSRF token is an
// HMAC of the session secret, so it needs no storage and changes with every sign-in.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '../lib/ids.js';
import { dashboardSessionsRepo } from '../store/dashboard-sessions-repo.js';
import type { Db } from '../store/db.js';
import type { TokenRow } from '../store/tokens-repo.js';
import { authenticate } from './tokens.js';

export const SESSION_TTL_MS = 12 * 3_600_000;

export interface SessionDeps {
  db: Db;
  random: RandomSource;
  now: number;
}

const hashOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Exchanges an API token for a new session secret; undefined when the token is unknown or revoked. */
export async function signIn(
  deps: SessionDeps,
  apiToken: string,
): Promise<{ secret: string; token: TokenRow } | undefined> {
  const token = await authenticate(deps.db, apiToken.trim());
  if (!token) return undefined;
  // Expired sessions go when someone signs in: sign-ins are rare, so the table stays small.
  await dashboardSessionsRepo.purgeExpired(deps.db, deps.now);
  const secret = Buffer.from(deps.random(32)).toString('base64url');
  await dashboardSessionsRepo.insert(deps.db, {
    id_hash: hashOf(secret),
    token_id: token.id,
    created_at: deps.now,
    expires_at: deps.now + SESSION_TTL_MS,
  });
  return { secret, token };
}

/** The token behind a session secret, while the session lives and the token is not revoked. */
export async function sessionToken(db: Db, secret: string, now: number): Promise<TokenRow | undefined> {
  if (secret.length < 16 || secret.length > 100) return undefined;
  return dashboardSessionsRepo.findLive(db, hashOf(secret), now);
}

export async function signOut(db: Db, secret: string): Promise<void> {
  await dashboardSessionsRepo.remove(db, hashOf(secret));
}

export function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update('dashboard-csrf').digest('base64url');
}

export function csrfMatches(secret: string, offered: string | undefined): boolean {
  if (!offered) return false;
  const want = Buffer.from(csrfTokenFor(secret));
  const got = Buffer.from(offered);
  return got.length === want.length && timingSafeEqual(got, want);
}
