import { describe, expect, it } from 'vitest';
import { nextAttempt } from '../../src/inbox/retry-policy.js';

describe('nextAttempt', () => {
  const policy = { max_attempts: 6, retry_base_delay: 1000 };
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16000],
  ])('after attempt %i waits %i ms', (attempts, delay) => {
    expect(nextAttempt(attempts, 50, policy)).toEqual({ kind: 'retry', at: 50 + delay });
  });

  it('parks the row once max_attempts are used', () => {
    expect(nextAttempt(6, 0, policy)).toEqual({ kind: 'dead' });
    expect(nextAttempt(1, 0, { max_attempts: 1, retry_base_delay: 1000 })).toEqual({ kind: 'dead' });
  });

  it('caps the delay at one hour', () => {
    expect(nextAttempt(30, 0, { max_attempts: 50, retry_base_delay: 60_000 })).toEqual({
      kind: 'retry',
      at: 3_600_000,
    });
  });
});
