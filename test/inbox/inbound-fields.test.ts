import { describe, expect, it } from 'vitest';
import { contextWamid, messageError, messageRole, messageText } from '../../src/inbox/inbound-fields.js';
import type { InboundMessage } from '../../src/webhook/payload.js';

const m = (x: Record<string, unknown>) => ({ timestamp: 0, ...x }) as unknown as Partial<InboundMessage>;

describe('messageText', () => {
  it.each([
    ['text body', m({ type: 'text', text: { body: 'hi' } }), 'hi'],
    ['image caption', m({ type: 'image', image: { caption: 'look' } }), 'look'],
    ['image without caption', m({ type: 'image', image: { id: '1' } }), null],
    ['document caption', m({ type: 'document', document: { caption: 'bill', filename: 'a.pdf' } }), 'bill'],
    ['video caption', m({ type: 'video', video: { caption: 'v' } }), 'v'],
    ['audio', m({ type: 'audio', audio: { id: '1', voice: true } }), null],
    [
      'button reply title',
      m({
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: 'a', title: 'Yes' } },
      }),
      'Yes',
    ],
    [
      'list reply title',
      m({
        type: 'interactive',
        interactive: { type: 'list_reply', list_reply: { id: 'a', title: 'Express' } },
      }),
      'Express',
    ],
    [
      'template quick reply text',
      m({ type: 'button', button: { payload: 'P', text: 'Confirm' } }),
      'Confirm',
    ],
    ['reaction emoji', m({ type: 'reaction', reaction: { message_id: 'w', emoji: '👍' } }), '👍'],
    ['removed reaction (omitted)', m({ type: 'reaction', reaction: { message_id: 'w' } }), null],
    ['removed reaction (empty)', m({ type: 'reaction', reaction: { message_id: 'w', emoji: '' } }), null],
    ['order note', m({ type: 'order', order: { text: 'today?' } }), 'today?'],
    ['location name', m({ type: 'location', location: { name: 'Here', address: 'St 1' } }), 'Here'],
    ['location address only', m({ type: 'location', location: { address: 'St 1' } }), 'St 1'],
    ['system body', m({ type: 'system', system: { body: 'changed' } }), 'changed'],
    ['unsupported', m({ type: 'unsupported', unsupported: { type: 'poll' } }), null],
    ['unknown type with a text body', m({ type: 'future', text: { body: 'x' } }), 'x'],
  ])('%s', (_label, msg, expected) => {
    expect(messageText(msg)).toBe(expected);
  });
});

describe('contextWamid, messageError, messageRole', () => {
  it('a reply points at context.id; a reaction at the reacted message; a forward at nothing', () => {
    expect(contextWamid(m({ type: 'text', context: { id: 'w1', from: '1' } }))).toBe('w1');
    expect(contextWamid(m({ type: 'reaction', reaction: { message_id: 'w2' } }))).toBe('w2');
    expect(contextWamid(m({ type: 'text', context: { forwarded: true } }))).toBeNull();
  });

  it('the first error gives code and title', () => {
    expect(messageError(m({ errors: [{ code: 131051, title: 'Message type unknown' }] }))).toEqual({
      code: 131051,
      title: 'Message type unknown',
    });
    expect(messageError(m({}))).toEqual({ code: null, title: null });
  });

  it.each([
    ['text', 'customer'],
    ['image', 'customer'],
    ['unsupported', 'customer'],
    ['order', 'customer'],
    ['reaction', 'passive'],
    ['system', 'passive'],
  ])('%s is %s', (type, role) => {
    expect(messageRole(type)).toBe(role);
  });
});
