// The event catalog (src/events/catalog.ts) is what the OpenAPI document and the README promise
// subscribers: one example `data` per type. These tests drive real flows (a customer writes, the
// daemon answers through a fake Cloud API, Meta reports statuses with pricing and a failure, the
// customer opts out and back in, changes number, a template is approved, the runtime is paused) and
// check that every event recorded carries exactly the fields its example shows, so the documentation
// cannot drift from what is sent.
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_EXAMPLES, isPublicEventType } from '../../src/events/catalog.js';
import { rows } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed, statusChange } from '../webhook/deliveries.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const T0 = 1767600000;

/** Fields present only in some variants of a type (each named in the type's summary). */
const SOMETIMES: Record<string, string[]> = {
  'message.failed': ['outbox_id', 'kind', 'attempts'],
  'draft.resolved': ['decided_by', 'edited', 'reason'],
  'campaign.state_changed': ['reason'],
  'runtime.status_changed': ['subscription_id'],
};

describe('the event catalog', () => {
  it('every event recorded by real flows has exactly the fields of its example', async () => {
    b = await startBench({
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'price', keywords: ['price'], reply: 'It is 5 EUR.' }] },
      },
    });
    const t = b.t;
    const from = '4917000000901';
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange([{ wa_id: from }], [{ from, timestamp: T0, body: 'what is the price?' }]),
        ]),
      ),
    );
    await t.deps.outbound.responder.drain();
    await t.deps.outbound.sender.drain();
    const sent = rows<{ wamid: string }>(
      t,
      "select wamid from messages where direction = 'outbound' and wamid is not null",
    );
    expect(sent.length).toBeGreaterThan(0);
    const wamid = sent[0]?.wamid as string;
    const pricing = { billable: true, pricing_model: 'PMP', category: 'service' };
    await deliver(
      t,
      signed(
        deliveryOf([
          statusChange([
            { id: wamid, status: 'sent', timestamp: T0 + 5, recipient_id: from, extra: { pricing } },
            { id: wamid, status: 'delivered', timestamp: T0 + 6, recipient_id: from, extra: { pricing } },
          ]),
        ]),
      ),
    );
    await deliver(t, fixture('optout_text_stop.json'), fixture('optout_text_start.json'));
    await deliver(t, fixture('msg_system_user_changed_number.json'));
    await deliver(t, fixture('field_message_template_status_approved.json'));
    const paused = await t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'pause_runtime' },
    });
    expect(paused.status).toBe(200);

    const events = rows<{ type: string; data: string }>(
      t,
      'select type, data from domain_events where internal = 0 order by seq',
    );
    const seen = new Set<string>();
    const mismatches: string[] = [];
    for (const e of events) {
      expect(isPublicEventType(e.type)).toBe(true);
      if (!isPublicEventType(e.type)) continue;
      seen.add(e.type);
      const expected = Object.keys(EVENT_EXAMPLES[e.type].data).sort();
      const actual = Object.keys(JSON.parse(e.data) as object).sort();
      const optional = new Set(SOMETIMES[e.type] ?? []);
      const missing = expected.filter((k) => !actual.includes(k) && !optional.has(k));
      const extra = actual.filter((k) => !expected.includes(k) && !optional.has(k));
      if (missing.length > 0 || extra.length > 0) {
        mismatches.push(
          `${e.type}: missing [${missing.join(', ')}], not in the example [${extra.join(', ')}]`,
        );
      }
    }
    expect(mismatches).toEqual([]);
    // The flows above reach these types at least (the rest are covered by their own modules' tests).
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        'contact.opted_in',
        'contact.opted_out',
        'conversation.opened',
        'conversation.state_changed',
        'message.received',
        'message.sent',
        'message.status',
        'runtime.status_changed',
        'template.status_changed',
      ]),
    );
  });
});
