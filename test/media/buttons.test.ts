// SPEC §12: responder rules may answer with reply buttons, and a customer's button or list choice is
// routed like text: its title is the message text, and its id is matched by classes (match.reply_ids)
// and responder rules (reply_ids).
import { afterEach, describe, expect, it } from 'vitest';
import { one } from '../inbox/db-view.js';
import { type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const CUSTOMER = '4917000000701';
let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

const config = {
  runtime: { automation_mode: 'autonomous' },
  escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
  conversation_classes: [{ name: 'sales', match: { reply_ids: ['offer_yes'] }, priority: 'high' }],
  responder: {
    rules: [
      {
        id: 'menu',
        keywords: ['hello'],
        reply: 'Hi! What can we do for you?',
        buttons: [
          { id: 'track', title: 'Track my order' },
          { id: 'human', title: 'Talk to a person' },
        ],
      },
      { id: 'tracking', reply_ids: ['track'], reply: 'Send us your order number, please.' },
    ],
  },
};

async function customer(t: Bench['t'], message: Record<string, unknown>): Promise<void> {
  const ts = Math.floor(t.clock.now() / 1000);
  await deliver(
    t,
    signed(
      deliveryOf([messagesChange([{ wa_id: CUSTOMER }], [{ from: CUSTOMER, timestamp: ts, ...message }])]),
    ),
  );
  await t.deps.outbound.responder.drain();
  await t.deps.outbound.sender.drain();
  t.clock.advance(5_000);
}

const bodies = () =>
  (b as Bench).graph.requests.filter((r) => r.path.endsWith('/messages')).map((r) => r.body);

describe('buttons both ways', () => {
  it('a rule answers with reply buttons; the customer’s button reply is routed by its id', async () => {
    b = await startBench({ config });
    await customer(b.t, { body: 'hello there' });
    expect(bodies().at(-1)).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Hi! What can we do for you?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'track', title: 'Track my order' } },
            { type: 'reply', reply: { id: 'human', title: 'Talk to a person' } },
          ],
        },
      },
    });
    await customer(b.t, {
      type: 'interactive',
      extra: {
        interactive: { type: 'button_reply', button_reply: { id: 'track', title: 'Track my order' } },
      },
    });
    expect(bodies().at(-1)).toMatchObject({
      type: 'text',
      text: { body: 'Send us your order number, please.' },
    });
    // The title is the message's text, as for any customer message.
    expect(
      one<{ text: string }>(
        b.t,
        "select text from messages where type = 'interactive' and direction = 'inbound'",
      ).text,
    ).toBe('Track my order');
  });

  it('a conversation that starts with a button choice takes the class matching its id', async () => {
    b = await startBench({ config });
    await customer(b.t, {
      type: 'interactive',
      extra: { interactive: { type: 'list_reply', list_reply: { id: 'offer_yes', title: 'Yes please' } } },
    });
    expect(
      one<{ conversation_class: string; priority: string }>(
        b.t,
        'select conversation_class, priority from conversations',
      ),
    ).toEqual({
      conversation_class: 'sales',
      priority: 'high',
    });
  });

  it('a rule with four buttons or an over-long title is refused with its path', async () => {
    const bad = await startBench({ config: {} });
    try {
      const res = await bad.t.request('/api/extensions/native-whatsapp/management/config', { method: 'GET' });
      const { version } = (await res.json()) as { version: number };
      const put = await bad.t.request('/api/extensions/native-whatsapp/management/config', {
        method: 'PUT',
        body: {
          version,
          responder: {
            rules: [
              {
                keywords: ['x'],
                reply: 'y',
                buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: `B${i}` })),
              },
            ],
          },
        },
      });
      expect(put.status).toBe(400);
      expect(JSON.stringify(await put.json())).toContain('responder.rules.0.buttons');
    } finally {
      await bad.close();
    }
  });
});
