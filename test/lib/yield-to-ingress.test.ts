import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type IngressSignal, yieldToIngress } from '../../src/lib/yield-to-ingress.js';

// Fake timers drive setTimeout, setImmediate and performance.now together, so the rest a worker
// takes can be read off the fake clock instead of waited for.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function signal(
  arrived: boolean,
  quiet: Promise<void> = Promise.resolve(),
): IngressSignal & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    idle: () => quiet,
    arrivedSince(since) {
      asked.push(since);
      return arrived;
    },
  };
}

/** How long (fake ms) yieldToIngress takes after `used` ms of work. */
async function restAfter(ingress: IngressSignal | undefined, used: number, share: number, maxWaitMs = 50) {
  const startedAt = performance.now();
  vi.advanceTimersByTime(used);
  const before = performance.now();
  let done = false;
  const p = yieldToIngress(ingress, startedAt, { share, maxWaitMs }).then(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersToNextTimerAsync();
  await p;
  return performance.now() - before;
}

describe('yieldToIngress', () => {
  it.each([
    // used ms, share, expected rest: used × (1 − share) / share, at most maxWaitMs
    [6, 0.25, 18],
    [5, 0.1, 45],
    [10, 0.5, 10],
    [20, 0.1, 50],
  ])(
    'after %d ms of work with a share of %d while deliveries arrive, rests %d ms',
    async (used, share, rest) => {
      const took = await restAfter(signal(true), used, share);
      expect(took).toBeCloseTo(rest, 0);
    },
  );

  it('does not rest when no delivery arrived during the work', async () => {
    const ingress = signal(false);
    expect(await restAfter(ingress, 20, 0.1)).toBe(0);
    expect(ingress.asked).toHaveLength(1);
  });

  it('without ingress only gives the event loop one turn', async () => {
    expect(await restAfter(undefined, 20, 0.1)).toBe(0);
  });

  it('under load without a quiet gap, waits for one no longer than the rest', async () => {
    const never = new Promise<void>(() => undefined);
    // 6 ms of work at a share of 0.25: a rest of 18 ms, then at most 18 ms more for a quiet gap.
    expect(await restAfter(signal(true, never), 6, 0.25)).toBe(36);
  });

  it('waits for quiet ingress at most maxWaitMs', async () => {
    const never = new Promise<void>(() => undefined);
    expect(await restAfter(signal(false, never), 1, 0.5, 30)).toBe(30);
  });
});

describe('yieldToIngress on a saturated loop', () => {
  /** Runs yieldToIngress to its end on the fake clock; `busyMs` of other work holds the loop first. */
  async function lateness(ingress: IngressSignal, used: number, share: number, busyMs: number) {
    const startedAt = performance.now() - used;
    let late: number | undefined;
    const p = yieldToIngress(ingress, startedAt, { share, maxWaitMs: 50 }).then((v) => {
      late = v;
    });
    // Synchronous: the worker's first turn comes due, but its continuation runs only after the other
    // work has held the loop for busyMs (as on a saturated loop, where every turn and timer runs late).
    vi.advanceTimersByTime(busyMs);
    while (late === undefined) await vi.advanceTimersToNextTimerAsync();
    await p;
    return late;
  }

  it('reports how much longer than planned the worker was away', async () => {
    const never = new Promise<void>(() => undefined);
    // 6 ms of work at 0.25: 18 ms rest + 18 ms for a gap, all of it 100 ms late.
    expect(await lateness(signal(true, never), 6, 0.25, 100)).toBe(100);
  });

  it('reports nothing when its timers ran on time', async () => {
    expect(await lateness(signal(true), 2, 0.5, 0)).toBe(0);
  });
});
