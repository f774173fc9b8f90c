// The zod schemas accept every message and status of the fixtures, keep unknown fields and types,
// and refuse only what cannot be used.
import { describe, expect, it } from 'vitest';
import {
  change,
  delivery,
  entry,
  inboundMessage,
  messagesValue,
  statusObject,
  templateStatusValue,
} from '../../src/webhook/payload.js';
import { acceptedFixtureNames, fixture } from './deliveries.js';

function changesOf(name: string) {
  const d = delivery.parse(JSON.parse(fixture(name).body.toString()));
  return d.entry.flatMap((e) => entry.parse(e).changes.map((c) => change.parse(c)));
}

describe('every accepted fixture', () => {
  // traffic_message_odd_field_with_errors.json carries a field of the wrong type on purpose: the
  // processor drops that field, not the message (test/inbox/real-traffic.test.ts).
  it.each(
    acceptedFixtureNames().filter(
      (n) => !n.startsWith('invalid/') && n !== 'traffic_message_odd_field_with_errors.json',
    ),
  )('%s parses item by item', (name) => {
    for (const c of changesOf(name)) {
      if (c.field !== 'messages') continue;
      const v = messagesValue.parse(c.value);
      for (const m of v.messages ?? []) expect(inboundMessage.safeParse(m).success).toBe(true);
      for (const s of v.statuses ?? []) expect(statusObject.safeParse(s).success).toBe(true);
    }
  });
});

describe('schemas keep what they do not know', () => {
  it('unknown fields at every level survive parsing', () => {
    const m = inboundMessage.parse({
      id: 'w',
      from: '1',
      timestamp: '1767600000',
      type: 'text',
      text: { body: 'x', extra: 1 },
      brand_new: { a: [1] },
    });
    expect(m).toMatchObject({
      text: { body: 'x', extra: 1 },
      brand_new: { a: [1] },
      timestamp: 1767600000_000,
    });
  });

  it('an unknown type is a message, not an error', () => {
    expect(
      inboundMessage.safeParse({ id: 'w', from: '1', timestamp: '1', type: 'poll', poll: {} }).success,
    ).toBe(true);
  });

  it('statuses keep conversation and pricing, with expiration as ms', () => {
    const [c] = changesOf('status_sent.json');
    const s = statusObject.parse(messagesValue.parse(c?.value).statuses?.[0]);
    expect(s.conversation?.expiration_timestamp).toBe(1767702600_000);
    expect(s.pricing).toMatchObject({ pricing_model: 'PMP', category: 'utility' });
  });

  it('template updates accept integer ids and return them as strings', () => {
    const [c] = changesOf('field_message_template_status_approved.json');
    expect(templateStatusValue.parse(c?.value).message_template_id).toBe('1689556908129832');
  });
});

describe('what is refused', () => {
  it.each([
    ['a messages value without metadata', () => messagesValue.safeParse({ messages: [] })],
    ['a status without id', () => statusObject.safeParse({ status: 'sent', timestamp: '1' })],
    [
      'a message timestamp that is not unix seconds',
      () => inboundMessage.safeParse({ id: 'w', timestamp: 'soon', type: 'text' }),
    ],
    ['an object that is not a WABA', () => delivery.safeParse({ object: 'page', entry: [] })],
  ])('%s', (_label, parse) => {
    expect(parse().success).toBe(false);
  });
});
