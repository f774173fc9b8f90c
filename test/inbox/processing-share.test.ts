import { describe, expect, it } from 'vitest';
import { DEFAULT_SHARE, processingShare } from '../../src/inbox/processing-share.js';

describe('processingShare', () => {
  it.each([
    // pending, bound, share
    [0, 100_000, 0.3],
    [50_000, 100_000, 0.3],
    [75_000, 100_000, 0.3], // the rise starts past three quarters of the bound
    [87_500, 100_000, 0.6],
    [100_000, 100_000, 0.9],
    [250_000, 100_000, 0.9], // a backlog over the bound (a lowered bound) stays at the maximum
    [10, 0, 0.3], // no bound to measure against
  ])('with %d waiting of a bound of %d the processor may take %d of the loop', (pending, bound, share) => {
    expect(processingShare(pending, bound)).toBeCloseTo(share, 6);
  });

  it('never falls as the backlog grows', () => {
    let previous = 0;
    for (let pending = 0; pending <= 120_000; pending += 1_000) {
      const share = processingShare(pending, 100_000);
      expect(share).toBeGreaterThanOrEqual(previous);
      expect(share).toBeLessThanOrEqual(DEFAULT_SHARE.max + 1e-9);
      previous = share;
    }
  });
});
