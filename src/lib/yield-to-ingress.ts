// Background work (inbox processing, responder jobs) runs on the same event loop and the same SQLite
// connection as webhook ingress. Between units of work it steps aside, so a backlog never holds up
// the 200s Meta is waiting for: while deliveries keep arriving it takes at most a fixed share of the
// loop (resting in proportion to the time it just used), and it starts its next unit when ingress is
// quiet or after a bounded wait. Without the share, the quiet gaps between group commits under load
// would let processing take half the loop and halve the deliveries accepted per second; a backlog
// built in a burst is caught up once the burst ends (it is bounded by load shedding).

/** What background workers know about ingress (webhook/inbox-writer.ts implements it). */
export interface IngressSignal {
  /** Resolves once nothing is being received or committed. */
  idle(): Promise<void>;
  /** True when a delivery started arriving at or after `since` (a performance.now() time). */
  arrivedSince(since: number): boolean;
}

export interface YieldOptions {
  /** Most of the loop's time background work may take while deliveries keep arriving (0 < share ≤ 1). */
  share: number;
  /** The longest to wait for quiet ingress (a floor on background progress under sustained load). */
  maxWaitMs: number;
}

/** Resolves when `quiet` does or after `ms`, whichever comes first. */
export function quietOrTimeout(quiet: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    quiet,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Call after a unit of background work that started at `startedAt` (performance.now()): one turn of
 * the event loop; then, if deliveries arrived meanwhile, a rest long enough to keep the work within
 * its share and a wait for quiet ingress no longer than that rest; else a wait for quiet ingress of at
 * most `maxWaitMs`. Under load without quiet gaps the work gets share / (2 − share) of the loop.
 *
 * Returns how much longer than planned the worker was away (ms): a saturated loop runs every timer and
 * turn late, and a worker that keeps its fixed unit size then gets a sliver of its share (one slice
 * per loop turn, when one turn is a hundred milliseconds of requests). Workers lengthen their next
 * unit by it, weighted by their share.
 */
export async function yieldToIngress(
  ingress: IngressSignal | undefined,
  startedAt: number,
  options: YieldOptions,
): Promise<number> {
  const endedAt = performance.now();
  const used = endedAt - startedAt;
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (!ingress) return 0;
  if (!ingress.arrivedSince(startedAt)) {
    await quietOrTimeout(ingress.idle(), options.maxWaitMs);
    return 0;
  }
  const rest = Math.min(options.maxWaitMs, (used * (1 - options.share)) / options.share);
  if (rest >= 1) await new Promise<void>((resolve) => setTimeout(resolve, rest));
  // Then start in the next quiet gap, but wait for one no longer than the rest: under load with no
  // gaps a longer wait would hold processing far below its share (a fixed 50 ms wait held it to a
  // tenth of the loop, whatever the backlog).
  const gap = Math.max(1, rest);
  await quietOrTimeout(ingress.idle(), gap);
  return Math.max(0, performance.now() - endedAt - Math.max(rest, 0) - gap);
}

/**
 * For background work made of many small units, each its own short transaction (a scheduler tick's
 * escalations, idle closes and chunks of follow-up decisions): a function to await after each unit.
 * It always gives the loop one turn (cheap next to a transaction), and once the work has held the loop
 * for `sliceMs` it steps aside as yieldToIngress does: while deliveries keep arriving, the work keeps
 * to its share. Without it a tick that escalated 500 conversations after a burst ran them back to back
 * as microtasks and held every webhook answer for about 200 ms (bench/ingress at 1000/s: p99 128–163
 * ms against 17.6 ms with SLA escalation off).
 */
export function ingressPacer(
  ingress: IngressSignal | undefined,
  options: YieldOptions & { sliceMs: number },
): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < options.sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    await yieldToIngress(ingress, since, options);
    since = performance.now();
  };
}
