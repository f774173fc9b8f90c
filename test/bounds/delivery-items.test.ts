// SPEC §9a for signed deliveries: an item that cannot be processed (too deep, wrong types, a timestamp
// outside [received − 30 days, received + 1 day]) is an item error and its siblings are stored; one
// delivery of many messages gives the event loop turns between them.
import { afterEach, describe, expect, it } from 'vitest';
import { collect } from '../../src/inbox/collect-items.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { rows } from '../inbox/db-view.js';
import { deliver, deliveryOf, messagesChange, signed, statusChange, wamid } from '../webhook/deliveries.js';

const RECOVERY = '/api/extensions/native-whatsapp/management/recovery';
// The test clock's start (2026-01-05T08:00Z), in unix seconds: deliveries are received then.
const NOW = 1_767_600_000;
const DAY = 86_400;
const FROM = '4917000000901';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const texts = (app: TestApp) =>
  rows<{ text: string }>(app, 'select text from messages order by timestamp').map((m) => m.text);
const itemErrors = (app: TestApp) =>
  rows<{ location: string; code: string }>(
    app,
    'select location, code from webhook_errors order by location',
  );
const inboxStates = (app: TestApp) =>
  rows<{ state: string }>(app, 'select state from inbox').map((r) => r.state);

describe('an item that cannot be processed fails alone', () => {
  it('a message nested 10,000 levels deep is an item error; its sibling is stored', async () => {
    t = await createTestApp({ memory: true });
    const change = messagesChange(
      [{ wa_id: FROM }],
      [
        { from: FROM, timestamp: NOW, body: 'deep', extra: { text: 'DEEP' } },
        { from: FROM, timestamp: NOW + 1, body: 'sibling' },
      ],
    );
    // Built as text: the value itself would overflow JSON.stringify's stack.
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    await deliver(t, signed(JSON.stringify(deliveryOf([change])).replace('"DEEP"', deep)));
    expect(inboxStates(t)).toEqual(['processed']);
    expect(texts(t)).toEqual(['sibling']);
    expect(itemErrors(t)).toEqual([{ location: 'entry[0].changes[0].value.messages[0]', code: 'too_deep' }]);
  });

  it('wrong-typed items and a wrong-typed list are item errors; the rest of the change is applied', async () => {
    t = await createTestApp({ memory: true });
    const change = messagesChange([{ wa_id: FROM }], [{ from: FROM, timestamp: NOW, body: 'kept' }]);
    const value = change.value as Record<string, unknown>;
    (value.messages as unknown[]).push(42, 'text', null, [1]);
    value.statuses = { not: 'an array' };
    await deliver(t, signed(deliveryOf([change])));
    expect(inboxStates(t)).toEqual(['processed']);
    expect(texts(t)).toEqual(['kept']);
    expect(itemErrors(t)).toEqual([
      { location: 'entry[0].changes[0].value.messages[1]', code: 'invalid_message' },
      { location: 'entry[0].changes[0].value.messages[2]', code: 'invalid_message' },
      { location: 'entry[0].changes[0].value.messages[3]', code: 'invalid_message' },
      { location: 'entry[0].changes[0].value.messages[4]', code: 'invalid_message' },
      { location: 'entry[0].changes[0].value.statuses', code: 'invalid_field' },
    ]);
  });
});

describe('timestamps outside [received − 30 days, received + 1 day]', () => {
  it('are item errors (messages and statuses); the items inside the window are applied', async () => {
    t = await createTestApp({ memory: true });
    const sent = wamid('sent');
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: FROM }],
            [
              { from: FROM, timestamp: NOW - 31 * DAY, body: 'too old' },
              { from: FROM, timestamp: NOW - 29 * DAY, body: 'old but inside' },
              { from: FROM, timestamp: NOW + DAY - 60, body: 'a clock slightly ahead' },
              { from: FROM, timestamp: NOW + 2 * DAY, body: 'from the future' },
            ],
          ),
          statusChange([{ id: sent, status: 'delivered', timestamp: NOW + 3 * DAY }]),
        ]),
      ),
    );
    expect(inboxStates(t)).toEqual(['processed']);
    expect(texts(t)).toEqual(['old but inside', 'a clock slightly ahead']);
    expect(itemErrors(t)).toEqual([
      { location: 'entry[0].changes[0].value.messages[0]', code: 'timestamp_out_of_range' },
      { location: 'entry[0].changes[0].value.messages[3]', code: 'timestamp_out_of_range' },
      { location: 'entry[0].changes[1].value.statuses[0]', code: 'timestamp_out_of_range' },
    ]);
    expect(rows(t, 'select * from status_events')).toEqual([]);
    const logged = t.logs().find((l) => l.event === 'inbox.item_errors') as { errors: { code: string }[] };
    expect(logged.errors.map((e) => e.code)).toEqual([
      'timestamp_out_of_range',
      'timestamp_out_of_range',
      'timestamp_out_of_range',
    ]);
  });

  it('a row reprocessed months later is judged by the day it was received', async () => {
    t = await createTestApp({ memory: true });
    await deliver(
      t,
      signed(
        deliveryOf([messagesChange([{ wa_id: FROM }], [{ from: FROM, timestamp: NOW - DAY, body: 'hi' }])]),
      ),
    );
    t.clock.advance(90 * DAY * 1000);
    const res = await t.request(RECOVERY, {
      body: { action: 'reprocess_inbox_since', since: '2026-01-01T00:00:00Z' },
    });
    expect(res.status).toBe(200);
    await t.deps.inbox.processor.drain();
    expect(inboxStates(t)).toEqual(['processed']);
    expect(itemErrors(t)).toEqual([]);
    expect(texts(t)).toEqual(['hi']);
  });
});

describe('one delivery of many messages', () => {
  it('gives the event loop turns between its messages (1,000 in one delivery)', async () => {
    t = await createTestApp({ memory: true });
    const app = t;
    const many = Array.from({ length: 1_000 }, (_, i) => ({
      from: `49170${String(i).padStart(8, '0')}`,
      timestamp: NOW,
      body: `message ${i}`,
    }));
    const body = signed(
      deliveryOf([
        messagesChange(
          many.map((m) => ({ wa_id: m.from })),
          many,
        ),
      ]),
    );
    // Each loop turn reads how many messages the open transaction holds so far (the same SQLite
    // connection sees its own uncommitted rows): a count strictly between 0 and 1,000 can only be
    // seen if processing gave the loop a turn between two messages.
    const seen = new Set<number>();
    let watching = true;
    const watch = () => {
      if (!watching) return;
      const n = (rows<{ n: number }>(app, 'select count(*) as n from messages')[0] as { n: number }).n;
      if (n > 0 && n < 1_000) seen.add(n);
      setImmediate(watch);
    };
    setImmediate(watch);
    try {
      await deliver(app, body);
    } finally {
      watching = false;
    }
    expect(rows(app, 'select count(*) as n from messages')).toEqual([{ n: 1_000 }]);
    expect(seen.size).toBeGreaterThanOrEqual(3);
  }, 180_000);
});

describe('the collect phase of a big delivery', () => {
  it('offers the event loop a turn before every item it parses (SPEC §9a: 1,000 items are not one run)', async () => {
    // Parsing 1,000 items in one synchronous run held the loop for 50-120 ms of CPU on a loaded box;
    // `between` is what processDelivery passes to take a loop turn once a slice has gone by.
    const many = Array.from({ length: 1_000 }, (_, i) => ({
      from: `49170${String(i).padStart(8, '0')}`,
      timestamp: NOW,
      body: `message ${i}`,
    }));
    const delivery = deliveryOf([
      messagesChange(
        many.map((m) => ({ wa_id: m.from })),
        many,
      ),
    ]) as { entry: unknown[] };
    let offered = 0;
    const work = await collect(
      delivery.entry,
      () => undefined,
      NOW * 1000,
      async () => {
        offered += 1;
      },
    );
    expect(work.messages).toHaveLength(1_000);
    expect(offered).toBeGreaterThanOrEqual(1_000);
  });
});
