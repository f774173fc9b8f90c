// Timers driven by a FakeClock: setTimeout registers at clock time + ms, and advance() moves the clock
// timer by timer, letting promise chains settle after each one. For code that takes injected Timers
// (outbound/pacing-queue.ts), so pacing can be tested without waiting for real time.
import type { FakeClock } from '../../src/lib/clock.js';
import type { Timers } from '../../src/outbound/pacing-queue.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export interface ManualTimers extends Timers {
  /** Move the clock forward by `ms`, firing due timers in time order. */
  advance(ms: number): Promise<void>;
  /** Let queued promise work settle without moving time. */
  settle(): Promise<void>;
  /** Timers not yet fired. */
  readonly pending: number;
}

export function manualTimers(clock: FakeClock): ManualTimers {
  let timers: Pending[] = [];
  let nextId = 1;

  const settle = async () => {
    // A few macrotask turns: p-queue and our own code chain several promises per step.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  };

  return {
    setTimeout(fn, ms) {
      const t = { id: nextId++, at: clock.now() + Math.max(0, ms), fn };
      timers.push(t);
      return t.id;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    async advance(ms) {
      const target = clock.now() + ms;
      await settle();
      for (;;) {
        const due = timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        if (due.at > clock.now()) clock.set(due.at);
        due.fn();
        await settle();
      }
      clock.set(target);
      await settle();
    },
    settle,
    get pending() {
      return timers.length;
    },
  };
}
