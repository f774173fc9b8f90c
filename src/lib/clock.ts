// The one source of time. Everything that needs "now" takes a Clock, so tests can move time by hand.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests and simulations. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: number | string | Date = Date.UTC(2026, 0, 5, 8, 0, 0)) {
    this.current = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  set(to: number | string | Date): void {
    this.current = typeof to === 'number' ? to : new Date(to).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

/** The largest instant a JS Date can hold (ECMA-262 §21.4.1.1): ±100,000,000 days from the epoch. */
export const MAX_DATE_MS = 8_640_000_000_000_000;

/**
 * An instant as ISO 8601. Stored numbers come from many places (Meta's timestamps, sums of durations);
 * one out of the Date range would make `toISOString` throw and take a whole page or settle step with
 * it, so it is clamped to the range (and a non-number read as the epoch) instead of throwing.
 */
export function toIso(ms: number): string {
  if (Number.isNaN(ms)) return new Date(0).toISOString();
  return new Date(Math.min(Math.max(ms, -MAX_DATE_MS), MAX_DATE_MS)).toISOString();
}
