// Built-in sample deliveries for `native-whatsapp simulate`: realistic Cloud API webhook bodies
// (several customers and message types, a duplicate, statuses, a template update) serialised the way
// Meta does, so a new user sees data move without a Meta account. Customers are fixed, so running a
// scenario again continues the same conversations; message ids are new on every run.
// Over 300 lines on purpose: sample data, one scenario after another; nothing here is logic to split.
import { toMetaJson } from './meta-json.js';
import { buildRealTraffic } from './sample-real-traffic.js';

export interface SampleDelivery {
  label: string;
  body: string;
}

export interface SampleOptions {
  /** ms; message timestamps are placed in the minutes before it. */
  now: number;
  phoneNumberId: string;
  /** A new unique suffix per call (wamids must not repeat across runs). */
  uniqueId: () => string;
}

const WABA_ID = '102290129340398';
const DISPLAY_NUMBER = '15550783881';

const CUSTOMERS = {
  jonas: { wa_id: '4917000000001', name: 'Jonas Becker' },
  lucia: { wa_id: '34600000003', name: 'Lucía Martínez' },
  joao: { wa_id: '5521900000005', name: 'João Gonçalves' },
  sheila: { user_id: 'ES.8812736450019283746', name: 'Sheila M.', username: '@sheila.m' },
} as const;

type Customer = { wa_id?: string; user_id?: string; name: string; username?: string };

export const SCENARIOS: Record<
  string,
  { description: string; build: (o: SampleOptions) => SampleDelivery[] }
> = {
  default: {
    description:
      'four customers (one known only by username/BSUID), text, image, button reply, location, reaction, a batch, a duplicate delivery, statuses and a template update',
    build: buildDefault,
  },
  demo: {
    description:
      'against a daemon with config/demo.json (or example.json): creates the agent, installs the extension, and five customers get an auto-reply, an escalation, a draft, an opt-out and a follow-up',
    build: buildDemo,
  },
  text: {
    description: 'one customer sends one text message',
    build: (o) => [
      {
        label: 'text from Jonas',
        body: delivery([
          messagesValue(
            o,
            [CUSTOMERS.jonas],
            [text(o, CUSTOMERS.jonas, o.now - 1000, 'Hi, do you ship to Berlin?')],
          ),
        ]),
      },
    ],
  },
  'real-traffic': {
    description:
      'SPEC §3a: a reply from the Business app (echo), a reaction on it, an edit, a BSUID change without a sender, a group message, a 👍 on a campaign send',
    build: buildRealTraffic,
  },
  statuses: {
    description: 'delivery statuses out of order (read before delivered) and a failure, for unknown wamids',
    build: (o) => {
      const out = `wamid.${o.uniqueId()}`;
      const failed = `wamid.${o.uniqueId()}`;
      const at = secondsBefore(o.now, 60);
      return [
        {
          label: 'read before delivered',
          body: delivery([
            statusesValue(o, [status(out, 'read', at + 20), status(out, 'delivered', at + 10)]),
          ]),
        },
        {
          label: 'failed (131047, outside the 24 h window)',
          body: delivery([
            statusesValue(o, [
              {
                ...status(failed, 'failed', at + 30),
                errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message' }],
              },
            ]),
          ]),
        },
      ];
    },
  },
};

/**
 * The demo's customers (simulate --scenario demo, with config/example.json or config/demo.json): one
 * message each that hits one of the example's classes or rules, and what the daemon should do.
 */
const DEMO_STORY = [
  {
    key: 'mia',
    name: 'Mia',
    text: 'Hi! Where is my order 48213377?',
    expect: 'auto-reply',
    why: 'class order-status (the keyword "order" or an order number), route ai, responder rule order-status',
  },
  {
    key: 'tom',
    name: 'Tom',
    text: 'Hello, are you open today?',
    expect: 'auto-reply',
    why: 'class general, route ai (automation_mode priority), responder rule opening-hours',
  },
  {
    key: 'ana',
    name: 'Ana',
    text: 'My coffee machine arrived broken. I want a refund!',
    expect: 'escalation',
    why: 'class complaint (route human, priority high) and the escalation keyword "refund"',
  },
  {
    key: 'leo',
    name: 'Leo',
    text: 'Hi! I saw your ad for the espresso machine.',
    expect: 'draft',
    why: 'class sales-lead (a click-to-WhatsApp ad), route hybrid: the reply waits for a human',
  },
  {
    key: 'eva',
    name: 'Eva',
    text: 'STOP',
    expect: 'opt-out',
    why: 'the opt-out keyword STOP',
  },
] as const;

export type DemoCustomer = (typeof DEMO_STORY)[number] & { wa_id: string };

/**
 * The demo's customers for a run started at `now`: new phone numbers on every run (from the run's
 * second), so each run tells the same story instead of continuing the last run's conversations.
 */
export function demoCustomers(now: number): DemoCustomer[] {
  const run = String(Math.floor(now / 1000) % 1_000_000).padStart(6, '0');
  return DEMO_STORY.map((c, i) => ({ ...c, wa_id: `49151${run}${i}` }));
}

function buildDemo(o: SampleOptions): SampleDelivery[] {
  const customers = demoCustomers(o.now);
  return customers.map((c, i) => {
    const message = text(o, c, o.now - (customers.length - i) * 1000, c.text);
    if (c.key === 'leo') {
      message.referral = {
        source_url: 'https://fb.me/3cr4Wqqkv',
        source_id: '120219834562170045',
        source_type: 'ad',
        headline: 'Espresso machines, 20% off',
        body: 'Fresh coffee at home',
        media_type: 'image',
        image_url: 'https://example.invalid/ad.jpg',
        ctwa_clid:
          'ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMXP-ryJ',
      };
    }
    return {
      label: `${c.name}: ${JSON.stringify(c.text)}`,
      body: delivery([messagesValue(o, [c], [message])]),
    };
  });
}

function buildDefault(o: SampleOptions): SampleDelivery[] {
  const t = (minutesAgo: number) => o.now - minutesAgo * 60_000;
  const c = CUSTOMERS;
  const jonasFirst = text(o, c.jonas, t(9), 'Hi, do you ship to Berlin?');
  const lucia = [
    text(o, c.lucia, t(8), 'Hola 👋 ¿tienen la talla M?'),
    text(o, c.lucia, t(7.9), '¿Y envío a Canarias?'),
  ];
  const sentWamid = `wamid.${o.uniqueId()}`;
  return [
    { label: 'text from Jonas', body: delivery([messagesValue(o, [c.jonas], [jonasFirst])]) },
    {
      label: 'the same delivery again (duplicate: no second effect)',
      body: delivery([messagesValue(o, [c.jonas], [jonasFirst])]),
    },
    { label: 'two messages from Lucía in one batch', body: delivery([messagesValue(o, [c.lucia], lucia)]) },
    {
      label: 'image with a caption from João',
      body: delivery([
        messagesValue(
          o,
          [c.joao],
          [
            {
              ...base(o, c.joao, t(6), 'image'),
              image: {
                caption: 'Foto do produto com defeito',
                mime_type: 'image/jpeg',
                sha256: 'rB76c9CSPPSHK/C68nYAN5iVDAOSov+ZmmTyg6iwIAQ=',
                id: '8174829754164723',
              },
            },
          ],
        ),
      ]),
    },
    {
      label: 'button reply from João',
      body: delivery([
        messagesValue(
          o,
          [c.joao],
          [
            {
              ...base(o, c.joao, t(5), 'interactive'),
              interactive: { type: 'button_reply', button_reply: { id: 'pay-pix', title: 'Pagar com Pix' } },
            },
          ],
        ),
      ]),
    },
    {
      label: 'location from Jonas',
      body: delivery([
        messagesValue(
          o,
          [c.jonas],
          [
            {
              ...base(o, c.jonas, t(4), 'location'),
              location: {
                latitude: 52.521918,
                longitude: 13.413215,
                name: 'Alexanderplatz',
                address: 'Alexanderplatz 1, 10178 Berlin',
              },
            },
          ],
        ),
      ]),
    },
    {
      label: 'text from a customer known only by username (BSUID)',
      body: delivery([
        messagesValue(o, [c.sheila], [text(o, c.sheila, t(3), 'Hola, ¿hacéis envíos a Canarias?')]),
      ]),
    },
    {
      label: 'statuses for an outbound message, read before delivered',
      body: delivery([
        statusesValue(o, [
          status(sentWamid, 'read', secondsBefore(t(2), 0) + 20),
          status(sentWamid, 'delivered', secondsBefore(t(2), 0) + 10),
        ]),
      ]),
    },
    {
      label: 'reaction from Jonas',
      body: delivery([
        messagesValue(
          o,
          [c.jonas],
          [{ ...base(o, c.jonas, t(1), 'reaction'), reaction: { message_id: sentWamid, emoji: '👍' } }],
        ),
      ]),
    },
    {
      label: 'template approved (template cache)',
      body: toMetaJson({
        entry: [
          {
            id: WABA_ID,
            time: secondsBefore(o.now, 30),
            changes: [
              {
                value: {
                  event: 'APPROVED',
                  message_template_id: 1689556908129832,
                  message_template_name: 'order_shipped',
                  message_template_language: 'en_US',
                  reason: 'NONE',
                  message_template_category: 'UTILITY',
                },
                field: 'message_template_status_update',
              },
            ],
          },
        ],
        object: 'whatsapp_business_account',
      }),
    },
  ];
}

function secondsBefore(ms: number, seconds: number): number {
  return Math.floor(ms / 1000) - seconds;
}

function base(o: SampleOptions, c: Customer, at: number, type: string): Record<string, unknown> {
  return {
    ...(c.wa_id ? { from: c.wa_id } : {}),
    ...(c.user_id ? { from_user_id: c.user_id } : {}),
    id: `wamid.${o.uniqueId()}`,
    timestamp: String(Math.floor(at / 1000)),
    type,
  };
}

function text(o: SampleOptions, c: Customer, at: number, body: string): Record<string, unknown> {
  return { ...base(o, c, at, 'text'), text: { body } };
}

function status(id: string, name: string, atSeconds: number): Record<string, unknown> {
  return { id, status: name, timestamp: String(atSeconds), recipient_id: CUSTOMERS.jonas.wa_id };
}

function metadata(o: SampleOptions) {
  return { display_phone_number: DISPLAY_NUMBER, phone_number_id: o.phoneNumberId };
}

function messagesValue(o: SampleOptions, customers: Customer[], messages: Record<string, unknown>[]) {
  return {
    messaging_product: 'whatsapp',
    metadata: metadata(o),
    contacts: customers.map((c) => ({
      profile: { name: c.name, ...(c.username ? { username: c.username } : {}) },
      ...(c.wa_id ? { wa_id: c.wa_id } : {}),
      ...(c.user_id ? { user_id: c.user_id } : {}),
    })),
    messages,
  };
}

function statusesValue(o: SampleOptions, statuses: Record<string, unknown>[]) {
  return { messaging_product: 'whatsapp', metadata: metadata(o), statuses };
}

function delivery(values: Record<string, unknown>[]): string {
  return toMetaJson({
    object: 'whatsapp_business_account',
    entry: [{ id: WABA_ID, changes: values.map((value) => ({ value, field: 'messages' })) }],
  });
}
