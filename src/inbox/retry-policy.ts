// When a failed inbox row is tried again: exponential backoff from config.inbox.retry_base_delay,
// doubled per attempt and capped, until config.inbox.max_attempts, then it is parked as dead.

const MAX_DELAY_MS = 60 * 60 * 1000;

export type RetryDecision = { kind: 'retry'; at: number } | { kind: 'dead' };

export function nextAttempt(
  attempts: number,
  now: number,
  policy: { max_attempts: number; retry_base_delay: number },
): RetryDecision {
  if (attempts >= policy.max_attempts) return { kind: 'dead' };
  const delay = Math.min(policy.retry_base_delay * 2 ** Math.max(0, attempts - 1), MAX_DELAY_MS);
  return { kind: 'retry', at: now + delay };
}
