import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/app-error.js';
import { graphRequestBody } from '../../../src/outbound/transports/graph-body.js';
import {
  type OutboundMessage,
  parseOutboundMessage,
  recipientKey,
} from '../../../src/outbound/transports/transport.js';

const base = { kind: 'message', phone_number_id: '106540352242922', to: { wa_id: '4917000000001' } } as const;

describe('graphRequestBody', () => {
  it.each<[string, OutboundMessage, Record<string, unknown>]>([
    [
      'text',
      { ...base, content: { type: 'text', text: 'Hello', preview_url: true } },
      { type: 'text', text: { body: 'Hello', preview_url: true } },
    ],
    [
      'template with components',
      {
        ...base,
        content: {
          type: 'template',
          template: {
            name: 'order_update',
            language: 'en_US',
            components: [{ type: 'body', parameters: [{ type: 'text', text: '42' }] }],
          },
        },
      },
      {
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en_US' },
          components: [{ type: 'body', parameters: [{ type: 'text', text: '42' }] }],
        },
      },
    ],
    [
      'template without components',
      { ...base, content: { type: 'template', template: { name: 'hello_world', language: 'en' } } },
      { type: 'template', template: { name: 'hello_world', language: { code: 'en' } } },
    ],
    [
      'reply buttons',
      {
        ...base,
        content: {
          type: 'buttons',
          header: 'Order 42',
          body: 'Did it arrive?',
          footer: 'Shop',
          buttons: [
            { id: 'yes', title: 'Yes' },
            { id: 'no', title: 'No' },
          ],
        },
      },
      {
        type: 'interactive',
        interactive: {
          type: 'button',
          header: { type: 'text', text: 'Order 42' },
          body: { text: 'Did it arrive?' },
          footer: { text: 'Shop' },
          action: {
            buttons: [
              { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
              { type: 'reply', reply: { id: 'no', title: 'No' } },
            ],
          },
        },
      },
    ],
    [
      'list',
      {
        ...base,
        content: {
          type: 'list',
          body: 'Pick a slot',
          button: 'Slots',
          sections: [{ title: 'Monday', rows: [{ id: 'mon-9', title: '09:00', description: 'Morning' }] }],
        },
      },
      {
        type: 'interactive',
        interactive: {
          type: 'list',
          body: { text: 'Pick a slot' },
          action: {
            button: 'Slots',
            sections: [{ title: 'Monday', rows: [{ id: 'mon-9', title: '09:00', description: 'Morning' }] }],
          },
        },
      },
    ],
    [
      'image by link with caption',
      {
        ...base,
        content: {
          type: 'media',
          media_type: 'image',
          media: { link: 'https://example.com/a.jpg' },
          caption: 'A',
        },
      },
      { type: 'image', image: { link: 'https://example.com/a.jpg', caption: 'A' } },
    ],
    [
      'document by id with filename',
      {
        ...base,
        content: { type: 'media', media_type: 'document', media: { id: '1234' }, filename: 'invoice.pdf' },
      },
      { type: 'document', document: { id: '1234', filename: 'invoice.pdf' } },
    ],
  ])('builds a %s message as Meta documents it', (_name, message, expected) => {
    expect(graphRequestBody(message)).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4917000000001',
      ...expected,
    });
  });

  it('adds reply context and biz_opaque_callback_data', () => {
    const body = graphRequestBody({
      ...base,
      content: { type: 'text', text: 'Hi' },
      reply_to: 'wamid.IN1',
      biz_opaque_callback_data: 'campaign=c1;recipient=r1',
    });
    expect(body.context).toEqual({ message_id: 'wamid.IN1' });
    expect(body.biz_opaque_callback_data).toBe('campaign=c1;recipient=r1');
  });

  it('addresses a customer known only by business-scoped user id with `recipient`', () => {
    const body = graphRequestBody({
      ...base,
      to: { user_id: 'US.13491208655302741918' },
      content: { type: 'text', text: 'Hi' },
    });
    expect(body.recipient).toBe('US.13491208655302741918');
    expect(body).not.toHaveProperty('to');
  });

  it('builds mark-as-read, with the typing indicator when asked', () => {
    expect(graphRequestBody({ kind: 'mark_as_read', phone_number_id: '1', message_id: 'wamid.X' })).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.X',
    });
    expect(
      graphRequestBody({
        kind: 'mark_as_read',
        phone_number_id: '1',
        message_id: 'wamid.X',
        typing_indicator: true,
      }),
    ).toMatchObject({ typing_indicator: { type: 'text' } });
  });
});

describe('parseOutboundMessage', () => {
  it('accepts a valid message', () => {
    const m = parseOutboundMessage({ ...base, content: { type: 'text', text: 'Hi' } });
    expect(m.kind).toBe('message');
  });

  it.each([
    ['an empty text', { type: 'text', text: '' }, 'content.text'],
    ['a text over 4096 characters', { type: 'text', text: 'x'.repeat(4097) }, 'content.text'],
    [
      'four reply buttons',
      { type: 'buttons', body: 'b', buttons: ['a', 'b', 'c', 'd'].map((id) => ({ id, title: id })) },
      'content.buttons',
    ],
    [
      'a button title over 20 characters',
      { type: 'buttons', body: 'b', buttons: [{ id: 'a', title: 'x'.repeat(21) }] },
      'content.buttons.0.title',
    ],
    [
      'a list with 11 rows',
      {
        type: 'list',
        body: 'b',
        button: 'Open',
        sections: [
          { title: 's', rows: Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: `r${i}` })) },
        ],
      },
      'content.sections',
    ],
    [
      'two list sections without titles',
      {
        type: 'list',
        body: 'b',
        button: 'Open',
        sections: [{ rows: [{ id: 'a', title: 'a' }] }, { rows: [{ id: 'b', title: 'b' }] }],
      },
      'content.sections',
    ],
    [
      'a captioned sticker',
      { type: 'media', media_type: 'sticker', media: { id: '1' }, caption: 'x' },
      'content.caption',
    ],
    [
      'an image with a filename',
      { type: 'media', media_type: 'image', media: { id: '1' }, filename: 'a.jpg' },
      'content.filename',
    ],
    [
      'media by link and id at once',
      { type: 'media', media_type: 'image', media: { id: '1', link: 'https://x.y/z' } },
      'content.media',
    ],
    ['an unknown content type', { type: 'carousel' }, 'content.type'],
  ])('refuses %s, naming the field', (_name, content, path) => {
    try {
      parseOutboundMessage({ ...base, content });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      const e = err as AppError;
      expect(e.code).toBe('invalid_outbound_message');
      expect((e.details as { path: string }[]).map((d) => d.path)).toContain(path);
    }
  });

  it('refuses a recipient that is not a phone number', () => {
    expect(() =>
      parseOutboundMessage({ ...base, to: { wa_id: '+49 170' }, content: { type: 'text', text: 'x' } }),
    ).toThrow(/to/);
  });
});

describe('recipientKey', () => {
  it('keys a customer by wa_id, or by user id in its own namespace', () => {
    expect(recipientKey({ wa_id: '4917000000001' })).toBe('4917000000001');
    expect(recipientKey({ user_id: 'US.1' })).toBe('user:US.1');
  });
});
