// Dashboard sign-in (SPEC §13): an API token is exchanged once for a session whose random secret
// travels only in an HttpOnly cookie; the database keeps the secret's SHA-256. The CSRF token is an
// HMAC of the session secret, so it needs no storage and changes with every sign-in. Sign-in, failed
// sign-in and sign-out are audited (action `dashboard.sign_in` …) with the token's id, never a secret:
// neither the offered token nor any part of it, nor the session secret.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IdSource, RandomSource } from '../lib/ids.js';
import { auditRepo } from '../store/audit-repo.js';
import { dashboardSessionsRepo } from '../store/dashboard-sessions-repo.js';
import type { Db } from '../store/db.js';
import type { TokenRow } from '../store/tokens-repo.js';
import { withTransaction } from '../store/transactions.js';
import { authenticate } from './tokens.js';

export const SESSION_TTL_MS = 12 * 3_600_000;

export interface SessionDeps {
  db: Db;
  random: RandomSource;
  ids: IdSource;
  now: number;
}

/** Why a sign-in failed, in the audit log: nothing of what was typed. */
export type SignInFailure = 'empty' | 'unknown_or_revoked';

function audit(
  db: Db,
  deps: SessionDeps,
  action: string,
  actor: string,
  details: Record<string, unknown>,
): Promise<void> {
  return auditRepo.record(db, {
    id: deps.ids.next(),
    actor,
    action,
    details: JSON.stringify(details),
    at: deps.now,
  });
}

const hashOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/**
 * Exchanges an API token for a new session secret; undefined when the token is empty, unknown or
 * revoked. Either way the attempt is audited.
 */
export async function signIn(
  deps: SessionDeps,
  apiToken: string,
): Promise<{ secret: string; token: TokenRow } | undefined> {
  const offered = apiToken.trim();
  const token = offered ? await authenticate(deps.db, offered) : undefined;
  if (!token) {
    const reason: SignInFailure = offered ? 'unknown_or_revoked' : 'empty';
    await audit(deps.db, deps, 'dashboard.sign_in_failed', 'unknown', { reason });
    return undefined;
  }
  const secret = Buffer.from(deps.random(32)).toString('base64url');
  await withTransaction(deps.db, async (trx) => {
    // Expired sessions go when someone signs in: sign-ins are rare, so the table stays small.
    await dashboardSessionsRepo.purgeExpired(trx, deps.now);
    await dashboardSessionsRepo.insert(trx, {
      id_hash: hashOf(secret),
      token_id: token.id,
      created_at: deps.now,
      expires_at: deps.now + SESSION_TTL_MS,
    });
    await audit(trx, deps, 'dashboard.sign_in', token.id, { tier: token.tier, token_name: token.name });
  });
  return { secret, token };
}

/** The token behind a session secret, while the session lives and the token is not revoked. */
export async function sessionToken(db: Db, secret: string, now: number): Promise<TokenRow | undefined> {
  if (secret.length < 16 || secret.length > 100) return undefined;
  return dashboardSessionsRepo.findLive(db, hashOf(secret), now);
}

/** Ends the session; audited with the token it stood for (nothing when there was no such session). */
export async function signOut(deps: SessionDeps, secret: string): Promise<void> {
  if (secret.length < 16 || secret.length > 100) return;
  await withTransaction(deps.db, async (trx) => {
    const token = await dashboardSessionsRepo.findLive(trx, hashOf(secret), deps.now);
    await dashboardSessionsRepo.remove(trx, hashOf(secret));
    if (token) await audit(trx, deps, 'dashboard.sign_out', token.id, { tier: token.tier });
  });
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
