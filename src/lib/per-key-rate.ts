// A fixed-window count per key (a token id): at most `limit` events per `windowMs`. In memory, one
// entry per key seen in the current window; old windows are dropped as keys come back or on sweep.

export class PerKeyRate {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one event for `key` at `now`; returns the ms to wait when over the limit, else 0. */
  take(key: string, now: number): number {
    if (this.windows.size > 10_000) this.sweep(now);
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.set(key, { start: now, count: 1 });
      return 0;
    }
    if (w.count >= this.limit) return w.start + this.windowMs - now;
    w.count += 1;
    return 0;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}
