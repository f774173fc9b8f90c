// Statuses and echoes on PostgreSQL (SPEC §10, §3a): two instances' processors, each on its own
// connection, take deliveries that carry the same item at the same time. An echo (a message the
// business sent from the Business app) is stored once and answers the customer's turn once; status
// events are stored once each and move their message only forward, whichever instance takes which
// delivery first (with the per-wamid lock of status-events-repo.ts removed, two instances applying
// `read` and `delivered` at once left messages at `delivered`: checked). Meta sends both twice as a matter of course (retries, and a status in more than one
// delivery). Runs when TEST_DATABASE_URL is set.
import { afterEach, describe, expect, it } from 'vitest';
import { engines } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import {
  deliveryOf,
  messagesChange,
  PNID,
  post,
  signed,
  statusChange,
  wamid,
} from '../webhook/deliveries.js';
import { one, rows } from './db-view.js';
import { startTwoProcessors } from './two-processors.js';

const T0 = 1767600000;
const ROUNDS = 12;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** An `smb_message_echoes` change: the business wrote `body` to `to` from the Business app. */
function echoChange(to: string, id: string, timestamp: number, body: string): Record<string, unknown> {
  return {
    field: 'smb_message_echoes',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: PNID },
      message_echoes: [
        { from: '15550783881', to, id, timestamp: String(timestamp), type: 'text', text: { body } },
      ],
    },
  };
}

const count = (app: TestApp, sql: string, ...params: unknown[]) =>
  Number(one<{ n: number }>(app, sql, ...params).n);

describe.skipIf(!engines.includes('postgres'))('statuses and echoes on two connections', () => {
  it('the same echo in two deliveries at once is stored once and answers the turn once; its statuses apply once, forward only', async () => {
    t = await createTestApp({ engine: 'postgres' });
    const app = t;
    const two = await startTwoProcessors(app);
    try {
      const echoes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const from = `4917200${String(round).padStart(6, '0')}`;
        const at = T0 + round * 10;
        // The customer's question, processed first: an open turn waiting for the business.
        await post(app, signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: at }])])));
        await two.settle();
        // The business answers from its phone; Meta delivers the echo twice (the second delivery
        // also carries its `sent` status), and both instances take one each.
        const id = wamid('echo');
        echoes.push(id);
        await post(app, signed(deliveryOf([echoChange(from, id, at + 1, 'On its way')])));
        await post(
          app,
          signed(
            deliveryOf([
              echoChange(from, id, at + 1, 'On its way'),
              statusChange([{ id, status: 'sent', timestamp: at + 1, recipient_id: from }]),
            ]),
          ),
        );
        await two.settle();
        // Then `read` and `delivered` in two deliveries, `read` first, and `delivered` once more:
        // each instance applies a different status to the same message at the same time.
        for (const status of ['read', 'delivered', 'delivered']) {
          const timestamp = at + (status === 'read' ? 3 : 2);
          await post(
            app,
            signed(deliveryOf([statusChange([{ id, status, timestamp, recipient_id: from }])])),
          );
        }
        await two.settle();
      }
      for (const id of echoes) {
        expect(count(app, 'select count(*) as n from messages where wamid = ?', id), id).toBe(1);
        expect(one(app, 'select direction, status from messages where wamid = ?', id)).toEqual({
          direction: 'outbound',
          status: 'read',
        });
        // One row per (status, timestamp), however many deliveries carried it.
        expect(
          rows<{ status: string }>(
            app,
            'select status from status_events where wamid = ? order by timestamp',
            id,
          ).map((r) => r.status),
        ).toEqual(['sent', 'delivered', 'read']);
      }
      // Each customer's turn answered once, by the echo.
      const turns = rows<{ answered: number }>(
        app,
        'select count(*) as answered from customer_turns where answered_at is not null group by conversation_id',
      );
      expect(turns.map((r) => Number(r.answered))).toEqual(Array.from({ length: ROUNDS }, () => 1));
      expect(count(app, "select count(*) as n from messages where direction = 'outbound'")).toBe(ROUNDS);
      // No delivery failed on the way (a lost race would be an attempt with an error).
      expect(rows(app, 'select id, last_error from inbox where last_error is not null')).toEqual([]);
    } finally {
      await two.close();
    }
  });
});
