// Insert-first inbound idempotency (SPEC §10): two instances' processors, each on its own connection
// to one PostgreSQL, process two deliveries of the same message at the same time; the unique wamid
// lets exactly one apply its effects. (On SQLite a second daemon on the file refuses to start, and
// the one connection serialises the processor's transactions: redeliveries are covered in
// processor.test.ts.) Runs when TEST_DATABASE_URL is set.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { engines } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveryOf, messagesChange, post, signed, wamid } from '../webhook/deliveries.js';
import { one, rows } from './db-view.js';
import { startTwoProcessors } from './two-processors.js';

const T0 = 1767600000;
const pendingSql = "select count(*) as n from inbox where state = 'pending'";
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe.skipIf(!engines.includes('postgres'))('insert-first on PostgreSQL', () => {
  it('two processors on two connections applying the same wamid at once apply it once', async () => {
    t = await createTestApp({ engine: 'postgres' });
    const app = t;
    const two = await startTwoProcessors(app);
    try {
      const ROUNDS = 15;
      const ids: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const id = wamid('twice');
        ids.push(id);
        const from = `4917000${String(round).padStart(6, '0')}`;
        // A known customer (so that no new contact is created by both, a race of its own).
        await post(app, signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: T0 }])])));
        two.a.wake();
        await waitFor(async () => Number(one<{ n: number }>(app, pendingSql).n) === 0, 20_000, 20);
        // Meta's redelivery of one message: two deliveries (bodies differ), one wamid.
        for (const name of ['First', 'Again']) {
          await post(
            app,
            signed(
              deliveryOf([messagesChange([{ wa_id: from, name }], [{ from, id, timestamp: T0 + round }])]),
            ),
          );
        }
        // Both at once; a row that lost a race on something else (a new contact both created) is
        // retried later.
        await two.settle();
      }
      for (const id of ids) {
        expect(one<{ n: number }>(app, `select count(*) as n from messages where wamid = '${id}'`).n).toBe(1);
        const received = rows(
          app,
          `select id from domain_events where type = 'message.received' and data like '%"wamid":"${id}"%'`,
        );
        expect(received, `message.received for ${id}`).toHaveLength(1);
      }
      // Each conversation holds its customer's two messages, no more.
      const perConversation = rows<{ n: number }>(
        app,
        "select count(*) as n from messages where direction = 'inbound' group by conversation_id",
      );
      expect(perConversation.map((r) => Number(r.n))).toEqual(Array.from({ length: ROUNDS }, () => 2));
    } finally {
      await two.close();
    }
  });
});
