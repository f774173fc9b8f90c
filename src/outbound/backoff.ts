// Exponential backoff with jitter for retryable send failures (SPEC §5: 2 s up to 15 min, 8 attempts,
// then `dead`). Plain functions; randomness is injected so tests can pin it.

export interface BackoffPolicy {
  /** Delay floor of the first retry, ms. */
  baseMs: number;
  /** No retry waits longer than this, ms. */
  maxMs: number;
  /** Total attempts, the first send included; after that many failures the message is dead. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 15 * 60_000, maxAttempts: 8 };

/** A number in [0, 1). */
export type UnitRandom = () => number;

/** A UnitRandom from the daemon's injected byte source (lib/ids RandomSource). */
export function unitRandomFrom(bytes: (n: number) => Uint8Array): UnitRandom {
  return () => {
    const b = bytes(4);
    const u32 = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
    return u32 / 2 ** 32;
  };
}

/** The policy from the `outbound` config section. */
export function backoffFromConfig(outbound: {
  retry_base_delay: number;
  retry_max_delay: number;
  max_attempts: number;
}): BackoffPolicy {
  return {
    baseMs: outbound.retry_base_delay,
    maxMs: outbound.retry_max_delay,
    maxAttempts: outbound.max_attempts,
  };
}

/**
 * Delay before retry number `retry` (1 = the first retry): uniform in [base·2^(retry-1), base·2^retry],
 * both ends capped at maxMs. The lower bound keeps the exponential shape (a retry never comes sooner
 * than the last one's floor); the spread keeps many messages failing together from retrying together.
 */
export function retryDelay(retry: number, policy: BackoffPolicy, random: UnitRandom = Math.random): number {
  const n = Math.max(1, Math.floor(retry));
  // 2^(n-1) overflows to Infinity for absurd n; min() keeps the result finite.
  const low = Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1));
  const high = Math.min(policy.maxMs, policy.baseMs * 2 ** n);
  const raw = random();
  const r = Number.isFinite(raw) ? Math.min(Math.max(raw, 0), 1) : 0; // a broken source must not yield NaN
  return Math.round(low + (high - low) * r);
}

export type RetryDecision = { retry: true; delayMs: number; retryAt: number } | { retry: false };

/**
 * After a retryable failure: when to try again, or give up. `attemptsMade` counts every send attempt
 * so far, the one that just failed included.
 */
export function planRetry(
  attemptsMade: number,
  now: number,
  policy: BackoffPolicy,
  random: UnitRandom = Math.random,
): RetryDecision {
  if (attemptsMade >= policy.maxAttempts) return { retry: false };
  const delayMs = retryDelay(attemptsMade, policy, random);
  return { retry: true, delayMs, retryAt: now + delayMs };
}
