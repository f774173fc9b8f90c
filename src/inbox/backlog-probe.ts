// How many inbox rows wait to be processed, for load shedding. Counting on every webhook would put a
// query in front of each 200, so the count is cached and taken again at most once per `everyMs` of
// the injected clock; concurrent callers share one count in flight.
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { inboxRepo } from '../store/inbox-repo.js';

export interface BacklogProbe {
  /** Pending inbox rows, as of at most `everyMs` ago. */
  pending(): Promise<number>;
}

export function createBacklogProbe(deps: { db: Db; clock: Clock }, everyMs = 1000): BacklogProbe {
  let value = 0;
  let countedAt = Number.NEGATIVE_INFINITY;
  let counting: Promise<number> | undefined;

  return {
    pending() {
      if (deps.clock.now() - countedAt < everyMs) return Promise.resolve(value);
      counting ??= inboxRepo
        .countInState(deps.db, 'pending')
        .then((n) => {
          value = n;
          countedAt = deps.clock.now();
          return n;
        })
        .finally(() => {
          counting = undefined;
        });
      return counting;
    },
  };
}
