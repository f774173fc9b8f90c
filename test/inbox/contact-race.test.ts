// Contact creation on PostgreSQL (SPEC §10): two instances' processors, each on its own connection,
// take the first messages of the same new customer at the same time. Both create the contact; the
// unique wa_id lets one insert it and the other takes that contact (insert-first), so neither delivery
// fails and waits for a retry. The fake clock never moves here: a delivery that hit the unique key
// would wait for its backoff forever. Runs when TEST_DATABASE_URL is set.
import { afterEach, describe, expect, it } from 'vitest';
import { engines } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveryOf, messagesChange, post, signed, wamid } from '../webhook/deliveries.js';
import { one, rows } from './db-view.js';
import { startTwoProcessors } from './two-processors.js';

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
    const two = await startTwoProcessors(app);
    const ROUNDS = 15;
    try {
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
        // The clock stays: a delivery that hit the unique key would wait for its backoff forever.
        await two.settle({ advanceClock: false });
        expect(rows(app, 'select id from contacts where wa_id = ?', from)).toHaveLength(1);
      }
      expect(
        Number(one<{ n: number }>(app, "select count(*) as n from messages where direction = 'inbound'").n),
      ).toBe(ROUNDS * 2);
      expect(Number(one<{ n: number }>(app, 'select count(*) as n from contacts').n)).toBe(ROUNDS);
      // Nothing failed on the way (a lost race is recorded as an attempt with an error).
      expect(rows(app, 'select id, last_error from inbox where last_error is not null')).toEqual([]);
    } finally {
      await two.close();
    }
  });
});
