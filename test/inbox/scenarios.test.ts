// Ingress scenarios beyond single fixtures: duplicates across deliveries, batches over several
// entries and contacts, statuses out of order and before their message, identity changes keeping one
// history, BSUID-only customers, reopening, and tolerant parsing of odd or unknown messages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPendingStatuses } from '../../src/inbox/statuses.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { messagesRepo } from '../../src/store/messages-repo.js';
import { withTransaction } from '../../src/store/transactions.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import {
  BSUID_FIXTURE_DAY,
  deliver,
  deliveryOf,
  fixture,
  messagesChange,
  PNID,
  signed,
  statusChange,
  wamid,
} from '../webhook/deliveries.js';
import {
  contacts,
  conversations,
  exec,
  identities,
  messages,
  one,
  rows,
  statusEvents,
  webhookErrors,
} from './db-view.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const T0 = 1767600000; // 2026-01-05T08:00:00Z, the fake clock's start
const HOUR = 3600;

/** Stores an outbound message the way the outbound side will, then applies waiting statuses. */
async function recordOutbound(id: string, at = T0): Promise<string | null | undefined> {
  return withTransaction(t.deps.db, async (trx) => {
    await messagesRepo.insertIfNew(trx, {
      id: t.deps.ids.next(),
      wamid: id,
      conversation_id: null,
      contact_id: null,
      phone_number_id: PNID,
      direction: 'outbound',
      type: 'text',
      text: 'Your order shipped',
      status: 'accepted',
      error_code: null,
      error_title: null,
      context_wamid: null,
      timestamp: at * 1000,
      created_at: t.clock.now(),
      payload: '{}',
    });
    return applyPendingStatuses(trx, id, { ids: t.deps.ids, now: t.clock.now(), config: t.deps.config() });
  });
}

const statusOf = (id: string) =>
  one<{ status: string }>(t, 'select status from messages where wamid = ?', id).status;

describe('exactly once per wamid', () => {
  it('the same wamid in two different deliveries has its effects once; the new one is processed', async () => {
    await deliver(t, fixture('dup_inbound_first_delivery.json'), fixture('dup_inbound_second_delivery.json'));
    expect(messages(t).map((m) => m.text)).toEqual(['Wann kommt mein Paket an?', 'Hallo?']);
    expect(conversations(t)).toMatchObject([{ unanswered_count: 2, turns_total: 1 }]);
  });

  it('an identical body delivered three times is stored three times but applied once', async () => {
    const f = fixture('batch_one_contact_three_messages.json');
    await deliver(t, f, f, f);
    expect(rows(t, 'select id from inbox')).toHaveLength(3);
    expect(messages(t)).toHaveLength(3);
    expect(conversations(t)).toMatchObject([{ unanswered_count: 3, turns_total: 1 }]);
  });

  it('reprocessing the inbox (recovery) changes nothing that was already applied', async () => {
    await deliver(
      t,
      fixture('batch_two_contacts.json'),
      fixture('status_out_of_order_read_before_delivered.json'),
      fixture('field_message_template_status_approved.json'),
      fixture('invalid/message_missing_id.json'),
    );
    const before = {
      messages: messages(t),
      conversations: conversations(t),
      statuses: statusEvents(t).length,
      events: rows(t, 'select * from webhook_events').length,
      errors: webhookErrors(t).length,
    };
    t.clock.advance(60_000);
    expect(await inboxRepo.reprocessInboxSince(t.deps.db, 0, t.clock.now())).toBe(4);
    await t.deps.inbox.processor.drain();
    expect(messages(t)).toEqual(before.messages);
    expect(conversations(t)).toEqual(before.conversations);
    expect(statusEvents(t)).toHaveLength(before.statuses);
    expect(rows(t, 'select * from webhook_events')).toHaveLength(before.events);
    expect(webhookErrors(t)).toHaveLength(before.errors);
  });
});

describe('batches over several entries, changes and contacts', () => {
  it('are processed whole, in message-timestamp order within each conversation', async () => {
    const a = '4917000000101';
    const b = '34600000102';
    const ids = { a1: wamid('a1'), a2: wamid('a2'), a3: wamid('a3'), b1: wamid('b1'), b2: wamid('b2') };
    // Listed out of order, split over two entries and three changes.
    const d = deliveryOf(
      [
        messagesChange(
          [
            { wa_id: b, name: 'Bea' },
            { wa_id: a, name: 'Ana' },
          ],
          [
            { from: a, id: ids.a3, timestamp: T0 + 30, body: 'third' },
            { from: b, id: ids.b2, timestamp: T0 + 25, body: 'b second' },
          ],
        ),
        messagesChange(
          [{ wa_id: a, name: 'Ana' }],
          [{ from: a, id: ids.a1, timestamp: T0 + 10, body: 'first' }],
        ),
      ],
      [
        messagesChange(
          [
            { wa_id: a, name: 'Ana' },
            { wa_id: b, name: 'Bea' },
          ],
          [
            { from: b, id: ids.b1, timestamp: T0 + 5, body: 'b first' },
            { from: a, id: ids.a2, timestamp: T0 + 20, body: 'second' },
          ],
        ),
      ],
    );
    await deliver(t, signed(d));
    // Message ids are assigned in processing order: they follow the timestamps.
    const processed = rows<{ text: string }>(t, 'select text from messages order by id').map((r) => r.text);
    expect(processed).toEqual(['b first', 'first', 'second', 'b second', 'third']);
    const names = Object.fromEntries(contacts(t).map((c) => [c.wa_id, c.profile_name]));
    expect(names).toEqual({ [a]: 'Ana', [b]: 'Bea' });
    const convs = conversations(t);
    expect(convs).toHaveLength(2);
    expect(convs.map((c) => c.unanswered_count).sort()).toEqual([2, 3]);
    expect(convs.map((c) => c.last_message_at).sort()).toEqual([(T0 + 25) * 1000, (T0 + 30) * 1000]);
  });

  it('one bad change does not block the other changes of the delivery', async () => {
    const d = deliveryOf([
      {
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          messages: [{ id: wamid(), from: '1', timestamp: '1', type: 'text' }],
        },
      },
      messagesChange([{ wa_id: '4917000000103' }], [{ from: '4917000000103', timestamp: T0, body: 'ok' }]),
      { nonsense: true },
    ]);
    await deliver(t, signed(d));
    expect(messages(t).map((m) => m.text)).toEqual(['ok']);
    expect(webhookErrors(t).map((e) => `${e.location} ${e.code}`)).toEqual([
      'entry[0].changes[0].value missing_metadata',
      'entry[0].changes[2] invalid_change',
    ]);
  });
});

describe('statuses', () => {
  it('only move forward, whatever order they arrive in', async () => {
    const id = wamid('out');
    await recordOutbound(id);
    const send = (status: string, ts: number) =>
      deliver(t, signed(deliveryOf([statusChange([{ id, status, timestamp: ts }])])));
    await send('read', T0 + 30);
    expect(statusOf(id)).toBe('read');
    await send('delivered', T0 + 20);
    await send('sent', T0 + 10);
    expect(statusOf(id)).toBe('read');
    await send('failed', T0 + 40);
    expect(statusOf(id)).toBe('read');
    expect(statusEvents(t).map((e) => e.status)).toEqual(['sent', 'delivered', 'read', 'failed']);
    expect(statusEvents(t).every((e) => e.applied_at !== null)).toBe(true);
  });

  it('read and delivered in one body end at read (delivered skipped or late)', async () => {
    await recordOutbound('wamid.HBgNNTUyMTkwMDAwMDAwNRUCABEYEjM4NDUzQzQ0Mjc5M0U4MUM5NAA=');
    await deliver(t, fixture('status_out_of_order_read_before_delivered.json'));
    expect(statusOf('wamid.HBgNNTUyMTkwMDAwMDAwNRUCABEYEjM4NDUzQzQ0Mjc5M0U4MUM5NAA=')).toBe('read');
  });

  it('a status that arrives before its message waits and is applied when the message is recorded', async () => {
    const id = wamid('early');
    await deliver(
      t,
      signed(
        deliveryOf([
          statusChange([
            { id, status: 'delivered', timestamp: T0 + 2 },
            { id, status: 'sent', timestamp: T0 + 1 },
          ]),
        ]),
      ),
    );
    expect(statusEvents(t).map((e) => e.applied_at)).toEqual([null, null]);
    expect(await recordOutbound(id)).toBe('delivered');
    expect(statusOf(id)).toBe('delivered');
    expect(statusEvents(t).every((e) => e.applied_at === t.clock.now())).toBe(true);
  });

  it('failed is recorded with code and title and is final', async () => {
    const id = wamid('fail');
    await recordOutbound(id);
    await deliver(
      t,
      signed(
        deliveryOf([
          statusChange([
            { id, status: 'sent', timestamp: T0 + 1 },
            {
              id,
              status: 'failed',
              timestamp: T0 + 2,
              extra: {
                errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable' }],
              },
            },
          ]),
        ]),
      ),
    );
    await deliver(t, signed(deliveryOf([statusChange([{ id, status: 'delivered', timestamp: T0 + 3 }])])));
    expect(one(t, 'select status, error_code, error_title from messages where wamid = ?', id)).toEqual({
      status: 'failed',
      error_code: 131026,
      error_title: 'Message undeliverable',
    });
  });

  it('the same status delivered twice is one event', async () => {
    const f = fixture('status_sent.json');
    await deliver(t, f, f);
    expect(statusEvents(t)).toHaveLength(1);
  });
});

describe('identities: one customer, one history', () => {
  it('user_changed_number keeps the conversation when the customer writes from the new number', async () => {
    const old = '4917000000010';
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange([{ wa_id: old, name: 'Karim' }], [{ from: old, timestamp: T0 - 600, body: 'hi' }]),
        ]),
      ),
    );
    await deliver(t, fixture('msg_system_user_changed_number.json'));
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: '4917000000012', name: 'Karim' }],
            [{ from: '4917000000012', timestamp: T0 + 20_000, body: 'new phone' }],
          ),
        ]),
      ),
    );
    expect(contacts(t)).toHaveLength(1);
    expect(conversations(t)).toHaveLength(1);
    const all = messages(t);
    expect(all.map((m) => m.type)).toEqual(['text', 'system', 'text']);
    expect(new Set(all.map((m) => m.conversation_id)).size).toBe(1);
    // The system notice is not the customer waiting for an answer.
    expect(conversations(t)).toMatchObject([{ unanswered_count: 2 }]);
    // A later message from the old number (delayed delivery) still lands on the same customer.
    await deliver(
      t,
      signed(
        deliveryOf([messagesChange([{ wa_id: old }], [{ from: old, timestamp: T0 + 20_001, body: 'late' }])]),
      ),
    );
    expect(contacts(t)).toMatchObject([{ wa_id: '4917000000012' }]);
    expect(conversations(t)).toHaveLength(1);
  });

  it('a customer first seen with phone and BSUID is found again by BSUID alone', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_text_phone_and_user_id.json'));
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            [{ user_id: 'BR.1502576394655843021', name: 'Marcos Vieira', username: '@marcos' }],
            [{ from_user_id: 'BR.1502576394655843021', timestamp: 1778000100, body: 'sem número' }],
          ),
        ]),
      ),
    );
    expect(contacts(t)).toMatchObject([
      { wa_id: '5511900000021', user_id: 'BR.1502576394655843021', username: '@marcos' },
    ]);
    expect(conversations(t)).toHaveLength(1);
  });

  it('a BSUID change then a number change keep one contact and one conversation', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(
      t,
      fixture('bsuid_text_phone_and_user_id.json'),
      fixture('bsuid_system_user_changed_number.json'),
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: '5511900000022', user_id: 'BR.7730012984756201934' }],
            [
              {
                from: '5511900000022',
                from_user_id: 'BR.7730012984756201934',
                timestamp: 1778002000,
                body: 'oi',
              },
            ],
          ),
        ]),
      ),
    );
    expect(contacts(t)).toHaveLength(1);
    expect(conversations(t)).toHaveLength(1);
    expect(new Set(messages(t).map((m) => m.conversation_id)).size).toBe(1);
  });

  it('a new number that already wrote (message before the notice) is merged: one contact, one history', async () => {
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange([{ wa_id: '4917000000010' }], [{ from: '4917000000010', timestamp: T0 - 60 }]),
        ]),
      ),
      signed(
        deliveryOf([
          messagesChange([{ wa_id: '4917000000012' }], [{ from: '4917000000012', timestamp: T0 - 30 }]),
        ]),
      ),
      fixture('msg_system_user_changed_number.json'),
    );
    // SPEC §3a: the notice names both numbers as one customer, so the two contacts become one.
    expect(contacts(t).map((c) => c.wa_id)).toEqual(['4917000000012']);
    expect(identities(t, contacts(t)[0]?.id as string)).toEqual([
      'wa_id:4917000000010',
      'wa_id:4917000000012',
    ]);
    expect(new Set(messages(t).map((m) => m.contact_id)).size).toBe(1);
    expect(webhookErrors(t)).toEqual([]);
  });
});

describe('conversations open, continue, reopen', () => {
  const from = '4917000000104';
  const say = (ts: number, body = 'hello') =>
    deliver(t, signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: ts, body }])])));
  const close = (id: string, at: number) =>
    exec(
      t,
      "update conversations set queue_state = 'closed', closed_at = ?, closed_reason = 'test' where id = ?",
      at,
      id,
    );

  it('a message within reopen_within of the close reopens the same conversation', async () => {
    await say(T0);
    const [conv] = conversations(t) as { id: string }[];
    close(conv?.id as string, (T0 + HOUR) * 1000);
    await say(T0 + 2 * HOUR);
    expect(conversations(t)).toMatchObject([
      { id: conv?.id, queue_state: 'open', closed_at: null, closed_reason: null, unanswered_count: 2 },
    ]);
  });

  it('a message after reopen_within starts a new conversation', async () => {
    await say(T0);
    const [conv] = conversations(t) as { id: string }[];
    close(conv?.id as string, (T0 + HOUR) * 1000);
    t.clock.set((T0 + HOUR + 24 * HOUR + 1) * 1000);
    await say(T0 + HOUR + 24 * HOUR + 1);
    const all = conversations(t);
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ queue_state: 'open', unanswered_count: 1, turns_total: 1 });
  });

  it('separate business numbers keep separate conversations with the same customer', async () => {
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange([{ wa_id: from }], [{ from, timestamp: T0 }], PNID),
          messagesChange([{ wa_id: from }], [{ from, timestamp: T0 }], '999000111222'),
        ]),
      ),
    );
    expect(
      conversations(t)
        .map((c) => c.phone_number_id)
        .sort(),
    ).toEqual([PNID, '999000111222'].sort());
    expect(contacts(t)).toHaveLength(1);
  });

  it('a reaction attaches to the conversation without counting as waiting', async () => {
    await say(T0);
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: from }],
            [
              {
                from,
                timestamp: T0 + 5,
                type: 'reaction',
                extra: { reaction: { message_id: 'wamid.x', emoji: '👍' } },
              },
            ],
          ),
        ]),
      ),
    );
    expect(conversations(t)).toMatchObject([{ unanswered_count: 1, last_message_at: (T0 + 5) * 1000 }]);
    expect(new Set(messages(t).map((m) => m.conversation_id)).size).toBe(1);
  });
});

describe('tolerant parsing', () => {
  it('an unknown message type with unknown fields is stored as sent', async () => {
    const d = deliveryOf([
      messagesChange(
        [{ wa_id: '4917000000105' }],
        [
          {
            from: '4917000000105',
            timestamp: T0,
            type: 'hologram',
            extra: { hologram: { frames: 3, é: 'ü' }, future_field: [1] },
          },
        ],
      ),
    ]);
    await deliver(t, signed(d));
    const [m] = messages(t);
    expect(m?.type).toBe('hologram');
    expect(JSON.parse(m?.payload as string)).toMatchObject({
      hologram: { frames: 3, é: 'ü' },
      future_field: [1],
    });
    expect(webhookErrors(t)).toHaveLength(0);
  });

  it('a known type with an unexpected shape is still stored (without its text) and reported', async () => {
    const d = deliveryOf([
      messagesChange(
        [{ wa_id: '4917000000106' }],
        [{ from: '4917000000106', timestamp: T0, type: 'text', extra: { text: { body: 42 } } }],
      ),
    ]);
    await deliver(t, signed(d));
    expect(messages(t)).toMatchObject([{ type: 'text', text: null }]);
    expect(webhookErrors(t).map((e) => e.code)).toEqual(['unexpected_message_fields']);
  });

  it('a message with neither from nor from_user_id is skipped with an error', async () => {
    const d = deliveryOf([messagesChange([], [{ timestamp: T0, body: 'who am I' }])]);
    await deliver(t, signed(d));
    expect(messages(t)).toHaveLength(0);
    expect(webhookErrors(t).map((e) => e.code)).toEqual(['unknown_sender']);
  });

  it('a message with an unreadable timestamp is skipped with an error', async () => {
    const d = deliveryOf([
      messagesChange(
        [{ wa_id: '4917000000107' }],
        [{ from: '4917000000107', timestamp: 0, extra: { timestamp: 'yesterday' } }],
      ),
    ]);
    await deliver(t, signed(d));
    expect(messages(t)).toHaveLength(0);
    expect(webhookErrors(t).map((e) => e.code)).toEqual(['invalid_message']);
  });
});
