// SPEC §9a "time and dates": a timestamp no Date can hold is refused at the webhook boundary as an item
// error (its siblings are applied), and an instant already stored out of range renders instead of
// answering 500.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DATE_MS, toIso } from '../../src/lib/clock.js';
import { json } from '../helpers/json.js';
import type { TestApp } from '../helpers/test-app.js';
import { exec, one, rows } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed, wamid } from '../webhook/deliveries.js';

const CONVERSATIONS = '/api/extensions/native-whatsapp/runtime/conversations';
// The test clock's day (2026-01-05T08:00Z), in unix seconds.
const TODAY = 1_767_600_000;
const BEYOND_DATE_RANGE = 8_640_000_000_001;

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

async function bench(): Promise<TestApp> {
  b = await startBench({
    config: {
      runtime: { automation_mode: 'autonomous' },
      responder: { rules: [{ id: 'price', keywords: ['price'], reply: 'It is 5 EUR.' }] },
    },
  });
  return b.t;
}

async function list(t: TestApp) {
  const res = await t.request(CONVERSATIONS, { token: t.tokens.standard });
  return { status: res.status, body: await json(res) };
}

describe('a timestamp beyond the Date range', () => {
  it('is an item error; its sibling is stored, listed and answered once', async () => {
    const t = await bench();
    const bad = wamid('beyond');
    const good = wamid('good');
    const from = '4917000000701';
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: from }],
            [
              { from, id: bad, timestamp: TODAY, body: 'price?', extra: { timestamp: BEYOND_DATE_RANGE } },
              { from, id: good, timestamp: TODAY + 5, body: 'what is the price?' },
            ],
          ),
        ]),
      ),
    );
    expect(one(t, 'select state, last_error from inbox')).toEqual({ state: 'processed', last_error: null });
    expect(rows(t, 'select wamid from messages').map((m) => m.wamid)).toEqual([good]);
    const errors = rows<{ location: string; code: string; message: string }>(
      t,
      'select location, code, message from webhook_errors',
    );
    expect(errors).toEqual([
      {
        location: 'entry[0].changes[0].value.messages[0]',
        code: 'invalid_message',
        message: expect.stringMatching(/^timestamp: /),
      },
    ]);

    const page = await list(t);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);

    await t.deps.outbound.responder.drain();
    await t.deps.outbound.sender.drain();
    await t.deps.outbound.sender.stop(Date.now() + 2_000);
    await t.deps.outbound.sender.start();
    await t.deps.outbound.sender.drain();
    expect(b?.graph.requests).toHaveLength(1);
    expect(rows(t, 'select state from outbox')).toEqual([{ state: 'sent' }]);
  });

  it('already stored (by an older version), it renders clamped instead of answering 500', async () => {
    const t = await bench();
    const from = '4917000000702';
    await deliver(
      t,
      signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: TODAY, body: 'hi' }])])),
    );
    const huge = BEYOND_DATE_RANGE * 1000;
    exec(t, 'update messages set timestamp = ?', huge);
    exec(t, 'update conversations set last_message_at = ?, opened_at = ?', huge, huge);

    const page = await list(t);
    expect(page.status).toBe(200);
    expect(page.body.items[0].last_message_at).toBe('+275760-09-13T00:00:00.000Z');
    const detail = await t.request(`${CONVERSATIONS}/${page.body.items[0].conversation_id}`, {
      token: t.tokens.standard,
    });
    expect(detail.status).toBe(200);
  });

  it('toIso clamps to the Date range and reads NaN as the epoch', () => {
    expect(toIso(MAX_DATE_MS + 1)).toBe('+275760-09-13T00:00:00.000Z');
    expect(toIso(-Infinity)).toBe('-271821-04-20T00:00:00.000Z');
    expect(toIso(Number.NaN)).toBe('1970-01-01T00:00:00.000Z');
    expect(toIso(Date.UTC(2026, 0, 5))).toBe('2026-01-05T00:00:00.000Z');
  });
});
