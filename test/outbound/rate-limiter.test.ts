import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { RecipientPacer, SlidingWindowLimiter, windowForRate } from '../../src/outbound/rate-limiter.js';

/** The most starts in any window of `windowMs` (every window that begins at a start). */
function maxInAnyWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('windowForRate', () => {
  it.each([
    [20, 20, 1000],
    [80, 80, 1000],
    [2.5, 2, 1000], // never above the rate in any second
    [1, 1, 1000],
    [0.5, 1, 2000],
    [0.1, 1, 10000],
  ])('%d per second is %d per %d ms', (rate, limit, windowMs) => {
    expect(windowForRate(rate)).toEqual({ limit, windowMs });
  });

  it('refuses a rate of zero or less', () => {
    expect(() => windowForRate(0)).toThrow(RangeError);
    expect(() => windowForRate(-1)).toThrow(RangeError);
  });
});

describe('SlidingWindowLimiter', () => {
  it('lets `limit` starts through at once, then makes the next wait for the oldest to leave the window', () => {
    const clock = new FakeClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 3, windowMs: 1000 });
    expect([1, 2, 3].map(() => limiter.tryAcquire(clock.now()))).toEqual([true, true, true]);
    expect(limiter.tryAcquire(clock.now())).toBe(false);
    expect(limiter.waitTime(clock.now())).toBe(1000);
    clock.advance(999);
    expect(limiter.waitTime(clock.now())).toBe(1);
    expect(limiter.tryAcquire(clock.now())).toBe(false);
    clock.advance(1);
    expect(limiter.tryAcquire(clock.now())).toBe(true);
    expect(limiter.tryAcquire(clock.now())).toBe(true);
    expect(limiter.tryAcquire(clock.now())).toBe(true);
    expect(limiter.tryAcquire(clock.now())).toBe(false);
  });

  it('does not allow a double burst across a fixed-bucket edge', () => {
    const limiter = new SlidingWindowLimiter({ limit: 5, windowMs: 1000 });
    for (let i = 0; i < 5; i++) expect(limiter.tryAcquire(900)).toBe(true);
    // A fixed 1-second bucket would reset at 1000 and allow 5 more at once.
    expect(limiter.tryAcquire(1000)).toBe(false);
    expect(limiter.waitTime(1000)).toBe(900);
    expect(limiter.inWindow(1000)).toBe(5);
  });

  it('never lets more than `limit` starts into any window, whatever the demand (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 50, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
        (limit, windowMs, gaps) => {
          const clock = new FakeClock(0);
          const limiter = new SlidingWindowLimiter({ limit, windowMs });
          const starts: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            // Demand arrives at every tick and takes a start when allowed, as greedy senders do.
            while (limiter.tryAcquire(clock.now())) starts.push(clock.now());
          }
          expect(maxInAnyWindow(starts, windowMs)).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a steady demand at exactly the cap over time (fake clock)', () => {
    const clock = new FakeClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 20, windowMs: 1000 });
    const starts: number[] = [];
    while (starts.length < 200) {
      const wait = limiter.waitTime(clock.now());
      if (wait > 0) clock.advance(wait);
      limiter.record(clock.now());
      starts.push(clock.now());
    }
    expect(maxInAnyWindow(starts, 1000)).toBe(20);
    // 200 starts at 20 per second: the last starts 9 s after the first.
    expect(starts.at(-1)).toBe(9000);
  });

  it('spreads starts over the window when asked, instead of spending the limit in one burst', () => {
    const limiter = new SlidingWindowLimiter({ limit: 4, windowMs: 1000, spread: true });
    expect(limiter.tryAcquire(0)).toBe(true);
    expect(limiter.tryAcquire(0)).toBe(false);
    expect(limiter.waitTime(0)).toBe(250);
    expect(limiter.tryAcquire(250)).toBe(true);
    // After a quiet spell the next start goes at once.
    expect(limiter.tryAcquire(5000)).toBe(true);
  });

  it('keeps the full rate on an integer clock when the spacing is fractional (80/s → 12.5 ms)', () => {
    const clock = new FakeClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 80, windowMs: 1000, spread: true });
    const starts: number[] = [];
    while (starts.length < 800) {
      const wait = limiter.waitTime(clock.now());
      // Integer-millisecond timers, as setTimeout and Date.now() give.
      if (wait > 0) clock.advance(Math.ceil(wait));
      else {
        limiter.record(clock.now());
        starts.push(clock.now());
      }
    }
    expect(maxInAnyWindow(starts, 1000)).toBe(80);
    // 800 starts at 80 per second: the last one 9.99 s after the first, not 800 × 13 ms.
    expect(starts.at(-1)).toBeLessThanOrEqual(9988);
  });

  it('never lets more than `limit` starts into any window when spreading either (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 50, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
        (limit, windowMs, gaps) => {
          const clock = new FakeClock(0);
          const limiter = new SlidingWindowLimiter({ limit, windowMs, spread: true });
          const starts: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            while (limiter.tryAcquire(clock.now())) starts.push(clock.now());
          }
          expect(maxInAnyWindow(starts, windowMs)).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('turns a backwards clock step into a delay of at most one window, never a burst', () => {
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000 });
    limiter.record(10_000);
    limiter.record(10_000);
    expect(limiter.waitTime(5_000)).toBe(1000);
    expect(limiter.tryAcquire(5_500)).toBe(false);
    expect(limiter.tryAcquire(6_000)).toBe(true);
  });

  it('keeps its recent starts when the limit changes at run time', () => {
    const limiter = new SlidingWindowLimiter({ limit: 10, windowMs: 1000 });
    for (let i = 0; i < 4; i++) limiter.record(100 + i);
    const lower = limiter.withLimit({ limit: 3, windowMs: 1000 });
    expect(lower.tryAcquire(200)).toBe(false);
    expect(lower.waitTime(200)).toBe(1000 + 101 - 200);
    const higher = limiter.withLimit({ limit: 6, windowMs: 1000 });
    expect(higher.tryAcquire(200)).toBe(true);
    expect(higher.tryAcquire(200)).toBe(true);
    expect(higher.tryAcquire(200)).toBe(false);
  });

  it('refuses a limit below one', () => {
    expect(() => new SlidingWindowLimiter({ limit: 0, windowMs: 1000 })).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ limit: 1.5, windowMs: 1000 })).toThrow(RangeError);
  });
});

describe('RecipientPacer', () => {
  it('keeps two sends to one recipient an interval apart and leaves others alone', () => {
    const pacer = new RecipientPacer(6000);
    expect(pacer.waitTime('a', 0)).toBe(0);
    pacer.record('a', 0);
    expect(pacer.waitTime('a', 1000)).toBe(5000);
    expect(pacer.waitTime('b', 1000)).toBe(0);
    expect(pacer.waitTime('a', 6000)).toBe(0);
  });

  it('forgets recipients whose interval has passed, so memory stays bounded', () => {
    const pacer = new RecipientPacer(1000, 100);
    for (let i = 0; i < 10_000; i++) pacer.record(`r${i}`, i * 20);
    // At 50 starts per second and a 1 s interval only ~50 recipients still matter.
    expect(pacer.size).toBeLessThanOrEqual(101);
    expect(pacer.waitTime('r9999', 9999 * 20)).toBe(1000);
  });

  it('holds a recipient for at most one interval after a backwards clock step', () => {
    const pacer = new RecipientPacer(1000);
    pacer.record('a', 50_000);
    expect(pacer.waitTime('a', 10_000)).toBe(1000);
  });
});
