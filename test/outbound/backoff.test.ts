import { describe, expect, it } from 'vitest';
import {
  backoffFromConfig,
  DEFAULT_BACKOFF,
  planRetry,
  retryDelay,
  unitRandomFrom,
} from '../../src/outbound/backoff.js';

const low = () => 0;
const high = () => 0.999999;

describe('retryDelay', () => {
  it.each([
    [1, 2_000, 4_000],
    [2, 4_000, 8_000],
    [3, 8_000, 16_000],
    [7, 128_000, 256_000],
    [9, 512_000, 900_000], // the upper end reaches the 15 min cap
    [10, 900_000, 900_000], // both ends capped
    [60, 900_000, 900_000], // no overflow for absurd retry numbers
  ])('retry %i waits between %i and %i ms by default', (retry, min, max) => {
    expect(retryDelay(retry, DEFAULT_BACKOFF, low)).toBe(min);
    expect(retryDelay(retry, DEFAULT_BACKOFF, high)).toBe(max);
    expect(retryDelay(retry, DEFAULT_BACKOFF, () => 0.5)).toBe(Math.round((min + max) / 2));
  });

  it('spreads retries of messages that failed together', () => {
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = new Set(Array.from({ length: 50 }, () => retryDelay(3, DEFAULT_BACKOFF, lcg)));
    expect(delays.size).toBeGreaterThan(40);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(8_000);
      expect(d).toBeLessThanOrEqual(16_000);
    }
  });

  it('never goes below the base or above the cap, whatever the random source returns', () => {
    for (const r of [-1, 0, 0.3, 1, 2, Number.NaN]) {
      for (let n = 1; n <= 12; n++) {
        const d = retryDelay(n, DEFAULT_BACKOFF, () => r);
        expect(d).toBeGreaterThanOrEqual(2_000);
        expect(d).toBeLessThanOrEqual(900_000);
      }
    }
  });
});

describe('planRetry', () => {
  it('retries after attempts 1 to 7 and gives up after the 8th by default', () => {
    for (let made = 1; made <= 7; made++) {
      const d = planRetry(made, 1_000_000, DEFAULT_BACKOFF, low);
      expect(d).toEqual({
        retry: true,
        delayMs: 2_000 * 2 ** (made - 1),
        retryAt: 1_000_000 + 2_000 * 2 ** (made - 1),
      });
    }
    expect(planRetry(8, 1_000_000, DEFAULT_BACKOFF, low)).toEqual({ retry: false });
  });

  it('reads the policy from the outbound config section', () => {
    const policy = backoffFromConfig({ retry_base_delay: 1000, retry_max_delay: 5000, max_attempts: 3 });
    expect(policy).toEqual({ baseMs: 1000, maxMs: 5000, maxAttempts: 3 });
    expect(planRetry(2, 0, policy, high)).toMatchObject({ retry: true, delayMs: 4000 });
    expect(planRetry(3, 0, policy, high)).toEqual({ retry: false });
  });
});

describe('unitRandomFrom', () => {
  it('turns random bytes into numbers in [0, 1)', () => {
    expect(unitRandomFrom(() => new Uint8Array([0, 0, 0, 0]))()).toBe(0);
    expect(unitRandomFrom(() => new Uint8Array([255, 255, 255, 255]))()).toBeLessThan(1);
    expect(unitRandomFrom(() => new Uint8Array([128, 0, 0, 0]))()).toBe(0.5);
  });
});
