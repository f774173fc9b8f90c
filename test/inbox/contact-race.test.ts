// Contact creation on PostgreSQL (SPEC §10): two instances' processors, each on its own connection,
// take the first messages of the same new customer at the same time. Both create the contact; the
// unique wa_id lets one insert it and the other takes that contact (insert-first), so neither delivery
// fails and waits for a retry. The fake clock never moves here: a delivery that hit the unique key
// would wait for its backoff forever. Runs when TEST_DATABASE_URL is set.
import { afterEach, describe, expect, it } from 'vitest';
import { createInboxProcessor } from '../../src/inbox/processor.js';
import { openPostgres } from '../../src/store/db.js';
import { waitFor } from '../helpers/daemon-process.js';
import { engines } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveryOf, messagesChange, post, signed, wamid } from '../webhook/deliveries.js';
import { one, rows } from './db-view.js';

const T0 = 1767600000;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe.skipIf(!engines.includes('postgres'))('new contacts on PostgreSQL', () => {
  it('two processors on two connections creating the same new contact at once create it once, without a retry', async () => {
    t = await createTestApp({ engine: 'postgres' });
    const app = t;
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
    const ROUNDS = 15;
    try {
      await a.start();
      await b.start();
      for (let round = 0; round < ROUNDS; round++) {
        const from = `4917100${String(round).padStart(6, '0')}`;
        // Two deliveries (two messages) from one customer nobody knows yet.
        for (const text of ['first', 'second']) {
          await post(
            app,
            signed(
              deliveryOf([
                messagesChange(
                  [{ wa_id: from }],
                  [{ from, id: wamid(text), timestamp: T0 + round, body: text }],
                ),
              ]),
            ),
          );
        }
        a.wake();
        b.wake();
        await waitFor(
          async () => {
            a.wake();
            b.wake();
            return (
              Number(
                one<{ n: number }>(app, "select count(*) as n from inbox where state <> 'processed'").n,
              ) === 0
            );
          },
          20_000,
          20,
        );
        expect(rows(app, 'select id from contacts where wa_id = ?', from)).toHaveLength(1);
      }
      expect(
        Number(one<{ n: number }>(app, "select count(*) as n from messages where direction = 'inbound'").n),
      ).toBe(ROUNDS * 2);
      expect(Number(one<{ n: number }>(app, 'select count(*) as n from contacts').n)).toBe(ROUNDS);
      // Nothing failed on the way (a lost race is recorded as an attempt with an error).
      expect(rows(app, 'select id, last_error from inbox where last_error is not null')).toEqual([]);
    } finally {
      await a.stop(Date.now() + 5000);
      await b.stop(Date.now() + 5000);
      await second.close();
    }
  });
});
