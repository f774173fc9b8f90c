// Pacing primitives for sends (SPEC §5): a sliding-window limiter that never lets more than `limit`
// starts fall in any window of `windowMs` (not fixed buckets, which allow 2× at a bucket edge), and a
// per-recipient guard that keeps sends to one customer at least an interval apart (Meta's pair rate
// limit, 131056). Both are plain state machines over `now` values; the caller owns the clock and timers.

export interface WindowLimit {
  limit: number;
  windowMs: number;
  /**
   * Also keep starts at least windowMs / limit apart, so the limit is spread over the window instead
   * of spent in one burst at its start. The window stays the hard cap; spreading only shapes the flow,
   * and makes the cap robust to latency jitter: a request delayed on the way can only bunch up with
   * its neighbours, not with a whole burst.
   */
  spread?: boolean;
}

/**
 * The window for a `rate_per_second` setting. Whole rates are `rate` per 1000 ms. Fractional rates
 * round down (2.5/s → 2 per second), because "never above the rate in any one-second window" is the
 * promise; rates below 1 become one start per 1000/rate ms.
 */
export function windowForRate(ratePerSecond: number): WindowLimit {
  if (!(ratePerSecond > 0)) throw new RangeError('rate per second must be a positive number');
  if (ratePerSecond >= 1) return { limit: Math.floor(ratePerSecond), windowMs: 1000 };
  return { limit: 1, windowMs: Math.ceil(1000 / ratePerSecond) };
}

export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly spacingMs: number;
  /** Start times of the last `limit` starts, as a ring; `head` is the oldest once the ring is full. */
  private readonly starts: number[] = [];
  private head = 0;

  /**
   * The scheduled time of the last start when spreading: starts follow a grid `spacingMs` apart for
   * as long as demand keeps up, so integer clock ticks do not round every gap up and lose rate.
   */
  private slot = Number.NEGATIVE_INFINITY;

  constructor({ limit, windowMs, spread = false }: WindowLimit) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
    this.limit = limit;
    this.windowMs = windowMs;
    this.spacingMs = spread ? windowMs / limit : 0;
  }

  /** Milliseconds until a start is allowed; 0 means now. */
  waitTime(now: number): number {
    if (this.starts.length === 0) return 0;
    this.clampToNow(now);
    const spacing = Math.max(0, this.slot + this.spacingMs - now);
    if (this.starts.length < this.limit) return spacing;
    const oldest = this.starts[this.head] as number;
    return Math.max(spacing, oldest + this.windowMs - now);
  }

  /** Take a start now if one is allowed; true when taken. */
  tryAcquire(now: number): boolean {
    if (this.waitTime(now) > 0) return false;
    this.record(now);
    return true;
  }

  /** Count a start at `now`. Callers check waitTime() first; recording past the limit is a bug. */
  record(now: number): void {
    const due = this.slot + this.spacingMs;
    // On the grid while at most one spacing late; after a pause the grid restarts at now.
    this.slot = now >= due && now - due < this.spacingMs ? due : Math.max(now, due);
    if (this.starts.length < this.limit) {
      this.starts.push(now);
      return;
    }
    this.starts[this.head] = now;
    this.head = (this.head + 1) % this.limit;
  }

  /**
   * A limiter with another limit that remembers this one's recent starts, so changing the rate at
   * run time cannot open a burst on top of the starts already made.
   */
  withLimit(next: WindowLimit): SlidingWindowLimiter {
    const limiter = new SlidingWindowLimiter(next);
    for (const t of this.chronological().slice(-next.limit)) limiter.record(t);
    limiter.slot = this.slot; // after the replay, which moves it
    return limiter;
  }

  /** Starts counted in the window that ends at `now` (for metrics and tests). */
  inWindow(now: number): number {
    return this.starts.filter((t) => t > now - this.windowMs).length;
  }

  private chronological(): number[] {
    return [...this.starts.slice(this.head), ...this.starts.slice(0, this.head)];
  }

  /**
   * If the wall clock stepped backwards, starts "in the future" are moved to now: the window then
   * still holds them, so a clock step can delay sends by up to one window but never allow a burst.
   */
  private clampToNow(now: number): void {
    for (let i = 0; i < this.starts.length; i++) {
      if ((this.starts[i] as number) > now) this.starts[i] = now;
    }
    if (this.slot > now) this.slot = now;
  }
}

/**
 * Keeps sends to the same recipient at least `intervalMs` apart. Memory stays bounded: entries whose
 * interval has passed no longer constrain anything and are swept once the map grows past `sweepAt`.
 */
export class RecipientPacer {
  readonly intervalMs: number;
  private readonly lastStart = new Map<string, number>();
  private readonly sweepAt: number;

  constructor(intervalMs: number, sweepAt = 10_000) {
    if (!(intervalMs >= 0)) throw new RangeError('intervalMs must be zero or more');
    this.intervalMs = intervalMs;
    this.sweepAt = sweepAt;
  }

  /** Milliseconds until `recipient` may receive the next send; 0 means now. */
  waitTime(recipient: string, now: number): number {
    const last = this.lastStart.get(recipient);
    if (last === undefined) return 0;
    // A backwards clock step must not hold a recipient for longer than one interval.
    return Math.min(this.intervalMs, Math.max(0, last + this.intervalMs - now));
  }

  record(recipient: string, now: number): void {
    this.lastStart.delete(recipient); // re-insert so the map stays in start order for the sweep
    this.lastStart.set(recipient, now);
    if (this.lastStart.size > this.sweepAt) this.sweep(now);
  }

  /** Recipients still held by their interval. */
  get size(): number {
    return this.lastStart.size;
  }

  private sweep(now: number): void {
    for (const [recipient, last] of this.lastStart) {
      if (last + this.intervalMs > now) break; // insertion order = start order: the rest are newer
      this.lastStart.delete(recipient);
    }
  }
}
