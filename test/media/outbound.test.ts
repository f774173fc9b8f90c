// SPEC §12 outbound: reply_conversation with context.media, context.interactive (buttons, list) and
// context.reply_to; the read receipt with typing indicator before every answer (outbound.mark_read);
// each body as the fake Graph API received it, compared with the shapes in Meta's "Send messages"
// reference; Meta's limits refused with 400 naming the field; POST .../runtime/media uploads.
import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp } from '../helpers/test-app.js';
import { one } from '../inbox/db-view.js';
import { ACCESS_TOKEN, type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed, wamid } from '../webhook/deliveries.js';

const EXECUTE = '/api/extensions/native-whatsapp/runtime/execute';
const MEDIA = '/api/extensions/native-whatsapp/runtime/media';
const CUSTOMER = '4917000000601';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

interface Setup {
  b: Bench;
  agent: string;
  conversation: string;
  inbound: string;
}

async function setup(config: Record<string, unknown> = {}): Promise<Setup> {
  // Read receipts are on by default; the test app turns them off for other tests.
  const b = await startBench({ config: { outbound: { mark_read: true }, ...config } });
  cleanups.push(() => b.close());
  const inbound = wamid('cust');
  const ts = Math.floor(b.t.clock.now() / 1000);
  await deliver(
    b.t,
    signed(
      deliveryOf([
        messagesChange([{ wa_id: CUSTOMER }], [{ from: CUSTOMER, id: inbound, timestamp: ts, body: 'hi' }]),
      ]),
    ),
  );
  return {
    b,
    agent: one<{ uuid: string }>(b.t, 'select uuid from agents').uuid,
    conversation: one<{ id: string }>(b.t, 'select id from conversations').id,
    inbound,
  };
}

function reply(s: Setup, context: Record<string, unknown>) {
  return s.b.t.request(EXECUTE, {
    body: {
      agent_uuid: s.agent,
      intent: 'reply_conversation',
      context: { platform: 'whatsapp', conversation_id: s.conversation, ...context },
    },
  });
}

/** Replies, lets the sender send, and returns the Graph bodies posted to /messages, in order. */
async function sent(s: Setup, context: Record<string, unknown>): Promise<unknown[]> {
  const res = await reply(s, context);
  expect(res.status, await res.clone().text()).toBe(202);
  await s.b.t.deps.outbound.sender.drain();
  return s.b.graph.requests.filter((r) => r.path.endsWith('/messages')).map((r) => r.body);
}

const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: CUSTOMER };

describe('reply_conversation bodies, as Meta documents them', () => {
  it('marks the customer’s last message read with a typing indicator, then sends the reply', async () => {
    const s = await setup();
    const bodies = await sent(s, { text: 'Hello!' });
    expect(bodies).toEqual([
      {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: s.inbound,
        typing_indicator: { type: 'text' },
      },
      { ...base, type: 'text', text: { body: 'Hello!' } },
    ]);
    // A second answer to the same message sends no second receipt; the receipt is not a business turn.
    const again = await sent(s, { text: 'More.' });
    expect(again.filter((b) => (b as { status?: string }).status === 'read')).toHaveLength(1);
    const detail = await json(
      await s.b.t.request(`/api/extensions/native-whatsapp/runtime/conversations/${s.conversation}`),
    );
    expect(detail.messages.filter((m: { direction: string }) => m.direction === 'outbound')).toHaveLength(2);
  });

  it('outbound.mark_read false sends no receipt', async () => {
    const s = await setup({ outbound: { mark_read: false } });
    expect(await sent(s, { text: 'Hello!' })).toEqual([{ ...base, type: 'text', text: { body: 'Hello!' } }]);
  });

  it('media by id with a caption, by link, a document with its filename', async () => {
    const s = await setup({ outbound: { mark_read: false } });
    await sent(s, { media: { type: 'image', media_id: '1234567890', caption: 'Your receipt' } });
    await sent(s, { media: { type: 'video', link: 'https://example.com/clip.mp4' } });
    const bodies = await sent(s, {
      media: {
        type: 'document',
        link: 'https://example.com/a.pdf',
        filename: 'invoice.pdf',
        caption: 'Invoice',
      },
    });
    expect(bodies).toEqual([
      { ...base, type: 'image', image: { id: '1234567890', caption: 'Your receipt' } },
      { ...base, type: 'video', video: { link: 'https://example.com/clip.mp4' } },
      {
        ...base,
        type: 'document',
        document: { link: 'https://example.com/a.pdf', caption: 'Invoice', filename: 'invoice.pdf' },
      },
    ]);
  });

  it('reply buttons', async () => {
    const s = await setup({ outbound: { mark_read: false } });
    const bodies = await sent(s, {
      interactive: {
        type: 'button',
        header: 'Order 42',
        body: 'Shall we ship it?',
        footer: 'Reply any time',
        buttons: [
          { id: 'ship', title: 'Ship it' },
          { id: 'wait', title: 'Wait' },
        ],
      },
    });
    expect(bodies).toEqual([
      {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'button',
          header: { type: 'text', text: 'Order 42' },
          body: { text: 'Shall we ship it?' },
          footer: { text: 'Reply any time' },
          action: {
            buttons: [
              { type: 'reply', reply: { id: 'ship', title: 'Ship it' } },
              { type: 'reply', reply: { id: 'wait', title: 'Wait' } },
            ],
          },
        },
      },
    ]);
  });

  it('a list, quoting the customer’s message (context.message_id)', async () => {
    const s = await setup({ outbound: { mark_read: false } });
    const bodies = await sent(s, {
      reply_to: s.inbound,
      interactive: {
        type: 'list',
        body: 'Pick a slot',
        button: 'Slots',
        sections: [
          { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'Front desk' }] },
          { title: 'Afternoon', rows: [{ id: 'a2', title: '14:00' }] },
        ],
      },
    });
    expect(bodies).toEqual([
      {
        ...base,
        context: { message_id: s.inbound },
        type: 'interactive',
        interactive: {
          type: 'list',
          body: { text: 'Pick a slot' },
          action: {
            button: 'Slots',
            sections: [
              { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'Front desk' }] },
              { title: 'Afternoon', rows: [{ id: 'a2', title: '14:00' }] },
            ],
          },
        },
      },
    ]);
  });
});

describe('Meta’s limits and the rules of a reply: 400 naming the field, nothing queued', () => {
  const buttons = (n: number, title = 'B') =>
    Array.from({ length: n }, (_, i) => ({ id: `b${i}`, title: `${title}${i}` }));
  const cases: { name: string; context: Record<string, unknown>; path: string }[] = [
    {
      name: 'four buttons',
      context: { interactive: { type: 'button', body: 'x', buttons: buttons(4) } },
      path: 'context.interactive.buttons',
    },
    {
      name: 'a button title over 20',
      context: { interactive: { type: 'button', body: 'x', buttons: buttons(1, 'a'.repeat(20)) } },
      path: 'context.interactive.buttons.0.title',
    },
    {
      name: 'a button body over 1024',
      context: { interactive: { type: 'button', body: 'x'.repeat(1025), buttons: buttons(1) } },
      path: 'context.interactive.body',
    },
    {
      name: 'two buttons with one id',
      context: {
        interactive: {
          type: 'button',
          body: 'x',
          buttons: [
            { id: 'a', title: 'A' },
            { id: 'a', title: 'B' },
          ],
        },
      },
      path: 'context.interactive.buttons',
    },
    {
      name: '11 list rows across sections',
      context: {
        interactive: {
          type: 'list',
          body: 'x',
          button: 'Open',
          sections: [
            { title: 'A', rows: Array.from({ length: 6 }, (_, i) => ({ id: `a${i}`, title: 'r' })) },
            { title: 'B', rows: Array.from({ length: 5 }, (_, i) => ({ id: `b${i}`, title: 'r' })) },
          ],
        },
      },
      path: 'context.interactive.sections',
    },
    {
      name: 'a row title over 24',
      context: {
        interactive: {
          type: 'list',
          body: 'x',
          button: 'Open',
          sections: [{ rows: [{ id: 'r', title: 'x'.repeat(25) }] }],
        },
      },
      path: 'context.interactive.sections.0.rows.0.title',
    },
    {
      name: 'a row description over 72',
      context: {
        interactive: {
          type: 'list',
          body: 'x',
          button: 'Open',
          sections: [{ rows: [{ id: 'r', title: 'r', description: 'd'.repeat(73) }] }],
        },
      },
      path: 'context.interactive.sections.0.rows.0.description',
    },
    {
      name: 'media with both link and media_id',
      context: { media: { type: 'image', link: 'https://e.com/a.jpg', media_id: '1' } },
      path: 'context.media',
    },
    {
      name: 'a caption on audio',
      context: { media: { type: 'audio', media_id: '1', caption: 'no' } },
      path: 'context.media.caption',
    },
    {
      name: 'text and media at once',
      context: { text: 'x', media: { type: 'image', media_id: '1' } },
      path: 'context.media',
    },
    {
      name: 'reply_to a message of no conversation of ours',
      context: { text: 'x', reply_to: 'wamid.elsewhere' },
      path: 'context.reply_to',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const s = await setup();
      const res = await reply(s, c.context);
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details.map((d: { path: string }) => d.path)).toContain(c.path);
      expect(one<{ n: number }>(s.b.t, 'select count(*) as n from outbox').n).toBe(0);
    });
  }

  it('media outside the customer service window: 409 window_closed', async () => {
    const s = await setup();
    s.b.t.clock.advance(25 * 3_600_000);
    const res = await reply(s, { media: { type: 'image', media_id: '1' } });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('window_closed');
  });
});

function upload(t: Bench['t'], file: Blob | null, name = 'photo.jpg', token?: string) {
  const form = new FormData();
  if (file) form.set('file', file, name);
  return t.daemon.app.app.request(MEDIA, {
    method: 'POST',
    headers: { authorization: `Bearer ${token ?? t.tokens.standard}` },
    body: form,
  });
}

describe('POST .../runtime/media', () => {
  it('uploads to Meta with the bearer token and answers its media_id', async () => {
    const b = await startBench({ agent: 'none' });
    cleanups.push(() => b.close());
    const res = await upload(b.t, new Blob([Buffer.alloc(2000, 1)], { type: 'image/jpeg' }));
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({
      media_id: expect.stringMatching(/^fake-media-/),
      media_type: 'image',
      mime_type: 'image/jpeg',
      size_bytes: 2000,
    });
    const call = b.graph.requests.find((r) => r.path === '/v24.0/sandbox/media');
    expect(call?.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect((call?.body as { content_type?: string } | undefined)?.content_type).toMatch(
      /^multipart\/form-data/,
    );
    // A copy is kept here and served.
    const got = await b.t.request(`${MEDIA}/${body.media_id}`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).length).toBe(2000);
  });

  it('the sandbox keeps the file locally and serves it', async () => {
    const t = await createTestApp();
    cleanups.push(() => t.close());
    const res = await upload(t, new Blob(['%PDF-1.4 hello'], { type: 'application/pdf' }), 'a.pdf');
    expect(res.status).toBe(201);
    const { media_id } = await json(res);
    expect(media_id).toMatch(/^sandbox-media-/);
    const got = await t.request(`${MEDIA}/${media_id}`);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="a\.pdf"/);
    expect(await got.text()).toBe('%PDF-1.4 hello');
  });

  it('400 without a file, 400 for a type not allowed, 413 too large, 415 not multipart, 401 without a token', async () => {
    const t = await createTestApp({ config: { media: { upload_max_bytes: 100_000 } } });
    cleanups.push(() => t.close());
    expect((await upload(t, null)).status).toBe(400);
    const html = await upload(t, new Blob(['<script>'], { type: 'text/html' }), 'x.html');
    expect(html.status).toBe(400);
    expect((await json(html)).error.details[0].path).toBe('file');
    const huge = await upload(t, new Blob([Buffer.alloc(200_000)], { type: 'image/jpeg' }));
    expect(huge.status).toBe(413);
    expect((await t.request(MEDIA, { body: { file: 'x' } })).status).toBe(415);
    expect((await upload(t, new Blob(['x'], { type: 'image/jpeg' }), 'a.jpg', 'nope')).status).toBe(401);
  });
});
