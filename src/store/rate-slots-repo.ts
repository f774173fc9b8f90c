// Send slots of the shared rate caps (SPEC §10: no phone number above its cap in any one-second
// window, however many instances send). Each capped key keeps the earliest start of its next send;
// taking a slot moves it on by the key's spacing in the same statement, under the row's lock, so two
// instances never get the same slot. Spacing starts `window / limit` apart keeps every window at or
// below the limit (outbound/rate-limiter.ts spreads starts the same way inside one process).

import { sql } from 'kysely';
import type { Db } from './db.js';

export interface RateSlotKey {
  /** `pnid:<phone_number_id>`, `campaign:<id>`. */
  key: string;
  /** Microseconds between two starts under this key. */
  spacingUs: number;
}

/**
 * A stored next start further ahead than this many spacings can only come from a clock that stepped
 * back (the backlog of taken slots is bounded by the senders' concurrency): it is forgotten.
 */
const HORIZON_SPACINGS = 1000;
const MIN_HORIZON_US = 60_000_000;

const horizonOf = (spacingUs: number) => Math.max(MIN_HORIZON_US, spacingUs * HORIZON_SPACINGS);

export const rateSlotsRepo = Object.freeze({
  /**
   * Takes the next send slot under every key at once and returns its start (microseconds): the
   * latest of `nowUs` and each key's next start. Keys are locked in name order, so two instances
   * taking the same pair never wait on each other crosswise. One statement for one key (a channel).
   */
  async take(db: Db, keys: readonly RateSlotKey[], nowUs: number): Promise<number> {
    const now = Math.round(nowUs);
    if (keys.length === 1) {
      const { key, spacingUs } = keys[0] as RateSlotKey;
      const spacing = Math.max(1, Math.round(spacingUs));
      const row = await db
        .insertInto('rate_slots')
        .values({ key, next_at_us: now + spacing })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            next_at_us: sql<number>`(case when rate_slots.next_at_us > ${now} and rate_slots.next_at_us <= ${now + horizonOf(spacing)} then rate_slots.next_at_us else ${now} end) + ${spacing}`,
          }),
        )
        .returning('next_at_us')
        .executeTakeFirstOrThrow();
      return Number(row.next_at_us) - spacing;
    }
    const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let start = now;
    for (const { key, spacingUs } of sorted) {
      // Insert-or-touch: takes the row's lock on PostgreSQL, and reads the next start under it.
      const row = await db
        .insertInto('rate_slots')
        .values({ key, next_at_us: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ next_at_us: sql<number>`rate_slots.next_at_us` }))
        .returning('next_at_us')
        .executeTakeFirstOrThrow();
      const next = Number(row.next_at_us);
      if (next > start && next <= now + horizonOf(spacingUs)) start = next;
    }
    for (const { key, spacingUs } of sorted) {
      await db
        .updateTable('rate_slots')
        .set({ next_at_us: start + Math.max(1, Math.round(spacingUs)) })
        .where('key', '=', key)
        .execute();
    }
    return start;
  },
});
