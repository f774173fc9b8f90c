// The last spacing before a request leaves (SPEC §5 rate cap). The pacing queue caps starts, but a
// start begins with a database write (the `sending` mark) whose commit time varies with fsync and
// other transactions; two starts 12 ms apart could then leave 40 ms apart, or together. So the cap is
// enforced once more, per phone number, on the same window, right before the request leaves: it only
// re-spaces sends that bunched up, it does not lower the rate.
import type { Clock } from '../lib/clock.js';
import { DEFAULT_WINDOW_SLACK_MS } from './pacing-queue.js';
import { SlidingWindowLimiter, windowForRate } from './rate-limiter.js';

export function createDispatchGate(clock: Clock, ratePerSecond: () => number) {
  const dispatch = new Map<string, { limiter: SlidingWindowLimiter; gate: Promise<void> }>();
  return function dispatchSlot(pnid: string): Promise<void> {
    const w = windowForRate(ratePerSecond());
    const spec = { limit: w.limit, windowMs: w.windowMs + DEFAULT_WINDOW_SLACK_MS, spread: true };
    let d = dispatch.get(pnid);
    if (!d) {
      d = { limiter: new SlidingWindowLimiter(spec), gate: Promise.resolve() };
      dispatch.set(pnid, d);
    } else if (d.limiter.limit !== spec.limit || d.limiter.windowMs !== spec.windowMs) {
      d.limiter = d.limiter.withLimit(spec);
    }
    const slot = d;
    const next = slot.gate.then(async () => {
      for (;;) {
        const now = clock.now();
        const wait = slot.limiter.waitTime(now);
        if (wait <= 0) {
          slot.limiter.record(now);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    });
    slot.gate = next;
    return next;
  };
}
