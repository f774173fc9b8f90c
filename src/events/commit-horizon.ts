// How far the event log may be read without passing an event still to come (SPEC §11, §10). On
// SQLite the writer is one connection: a seq is taken and committed in commit order, so everything
// visible is final. On PostgreSQL an event's seq comes from a sequence while its transaction is open:
// transaction A takes seq 10, B takes 11 and commits first, and a reader that moved its cursor to 11
// would never see 10. The horizon is the seq up to which every event is committed or will never
// exist (rolled back), found without locks from transaction ids:
// - every event insert gets its transaction's id before it takes its seq (events-repo.ts);
// - a probe reads, in one statement, the highest visible seq M and then takes a fresh transaction id
//   R: every transaction that took a seq at or below M already had an id, so its id is below R;
// - once a later probe's snapshot has no transaction older than R still running (its xmin >= R),
//   every seq <= M is final: M becomes the horizon.
// So a reader holds back at most until the transactions open at its previous probe have ended
// (milliseconds: nothing awaits the network inside a transaction). A probe costs one statement and
// one transaction id, and is only made when events beyond the horizon are visible.
import type { Db } from '../store/db.js';
import { engineOf } from '../store/dialect.js';
import { eventsRepo } from '../store/events-repo.js';

export interface CommitHorizon {
  /** Every event with a seq at or below the answer is visible now or never will be. */
  safe(): Promise<number>;
  /** The answer of the last safe() (0 before the first), without asking the database. */
  known(): number;
}

/** Probes older than this many are merged into the newest kept one (a long transaction holds them). */
const MAX_PENDING = 32;

export function createCommitHorizon(db: Db): CommitHorizon {
  if (engineOf(db) === 'sqlite') {
    return { safe: async () => Number.MAX_SAFE_INTEGER, known: () => Number.MAX_SAFE_INTEGER };
  }
  let horizon = 0;
  // Probes not yet final, oldest first: both their seq and their transaction id only grow.
  const pending: { seq: number; mark: bigint }[] = [];
  return {
    known: () => horizon,
    async safe() {
      const probe = await eventsRepo.horizonProbe(db);
      while (pending.length > 0 && (pending[0] as { mark: bigint }).mark <= probe.xmin) {
        horizon = Math.max(horizon, (pending.shift() as { seq: number }).seq);
      }
      const last = pending[pending.length - 1];
      if (probe.maxSeq > horizon && (!last || probe.maxSeq > last.seq)) {
        // Full: the newest probe replaces the newest kept one (a later mark covers a smaller seq too).
        if (pending.length >= MAX_PENDING) pending.pop();
        pending.push({ seq: probe.maxSeq, mark: probe.mark });
      }
      return horizon;
    },
  };
}

/**
 * The log's end as a starting point ("from now on"): the highest seq visible now, once every
 * transaction that could still commit an event below it has ended. Waits for those (a few
 * milliseconds) by probing again; on SQLite it is the highest seq, at once.
 */
export async function settledLastSeq(db: Db, retryMs = 5): Promise<number> {
  if (engineOf(db) === 'sqlite') return eventsRepo.lastSeq(db);
  const first = await eventsRepo.horizonProbe(db);
  for (;;) {
    const again = await eventsRepo.horizonProbe(db, false);
    if (again.xmin >= first.mark) return first.maxSeq;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
