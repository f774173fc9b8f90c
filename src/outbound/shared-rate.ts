// The rate caps every instance shares (SPEC §10, §5): each send takes its start from the database
// (store/rate-slots-repo.ts) in the transaction that marks it `sending`, then waits for that start.
// The database rather than one owner per phone number: any instance can send for any number (no
// ownership to hand over when one dies, no idle instance while another has a backlog), and the slot is
// one more statement in a transaction the send makes anyway, so a lone daemon on SQLite pays no extra
// commit. The in-process windows (pacing-queue.ts, dispatch-gate.ts) stay: they shape each instance's
// own flow; the shared slot is what holds the cap across instances. The instances' clocks must agree
// (NTP) to well under the 25 ms window slack; on one host they are the same clock.
import type { Clock } from '../lib/clock.js';
import type { RateSlotKey } from '../store/rate-slots-repo.js';
import { DEFAULT_WINDOW_SLACK_MS } from './pacing-queue.js';
import { windowForRate } from './rate-limiter.js';

/** The slot key of a rate cap: `limit` starts per window (plus `slackMs`), spread evenly over it. */
export function rateSlotKey(
  key: string,
  ratePerSecond: number,
  slackMs = DEFAULT_WINDOW_SLACK_MS,
): RateSlotKey {
  const w = windowForRate(ratePerSecond);
  return { key, spacingUs: ((w.windowMs + slackMs) * 1000) / w.limit };
}

/** A business phone number's cap (`outbound.rate_per_second`). */
export function channelSlotKey(phoneNumberId: string, ratePerSecond: number): RateSlotKey {
  return rateSlotKey(`pnid:${phoneNumberId}`, ratePerSecond);
}

/** Resolves once `clock` reaches `startUs` (microseconds); at once when it has. */
export async function waitForSlot(clock: Clock, startUs: number): Promise<void> {
  for (;;) {
    const wait = Math.ceil(startUs / 1000 - clock.now());
    if (wait <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
