// Two instances' inbox processors on one PostgreSQL database, each on its own connection (SPEC §10),
// for the race tests: the test app's own processor is stopped, `a` runs on the app's connection and
// `b` on a second one. `settle()` wakes both until no inbox row is pending; a row that lost a race on
// something else waits for its backoff, so the fake clock moves a second on each look.
import { createInboxProcessor, type InboxProcessor } from '../../src/inbox/processor.js';
import { openPostgres } from '../../src/store/db.js';
import { waitFor } from '../helpers/daemon-process.js';
import type { TestApp } from '../helpers/test-app.js';
import { one } from './db-view.js';

export interface TwoProcessors {
  a: InboxProcessor;
  b: InboxProcessor;
  /** Wakes both at once (drain() is one instance's: it counts the other's leased rows as its own). */
  wakeBoth(): void;
  /** Until no inbox row is pending. `advanceClock: false` for a test whose rows must never wait. */
  settle(options?: { advanceClock?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function startTwoProcessors(app: TestApp): Promise<TwoProcessors> {
  await app.deps.inbox.processor.stop(Date.now() + 5000);
  const second = openPostgres(app.databaseUrl as string);
  const processor = (db: typeof app.deps.db, owner: string) =>
    createInboxProcessor({
      db,
      owner,
      clock: app.clock,
      ids: app.deps.ids,
      logger: app.deps.logger,
      metrics: app.deps.metrics,
      config: app.deps.config,
    });
  const a = processor(app.deps.db, 'instance-a');
  const b = processor(second.db, 'instance-b');
  await a.start();
  await b.start();
  const wakeBoth = () => {
    a.wake();
    b.wake();
  };
  return {
    a,
    b,
    wakeBoth,
    async settle({ advanceClock = true } = {}) {
      wakeBoth();
      await waitFor(
        async () => {
          if (advanceClock) app.clock.advance(1000);
          wakeBoth();
          return (
            Number(
              one<{ n: number }>(app, "select count(*) as n from inbox where state <> 'processed'").n,
            ) === 0
          );
        },
        20_000,
        20,
      );
    },
    async close() {
      await a.stop(Date.now() + 5000);
      await b.stop(Date.now() + 5000);
      await second.close();
    },
  };
}
