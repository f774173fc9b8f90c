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

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}
