import { describe, expect, it } from 'vitest';
import {
  afterCustomerMessage,
  afterPassiveMessage,
  type ConversationFigures,
  chooseConversation,
  newConversationFigures,
  SERVICE_WINDOW_MS,
} from '../../src/inbox/conversation-update.js';

const H = 3_600_000;
const base: ConversationFigures = {
  queue_state: 'open',
  last_message_at: 10 * H,
  last_customer_message_at: 10 * H,
  last_business_message_at: null,
  window_expires_at: 10 * H + SERVICE_WINDOW_MS,
  unanswered_count: 1,
  turns_total: 1,
};

describe('chooseConversation', () => {
  it.each([
    ['no conversation yet', undefined, 'new'],
    ['one not closed', { closed_at: null }, 'current'],
    ['closed 1 h before the message', { closed_at: 9 * H }, 'reopen'],
    ['closed just under reopen_within before', { closed_at: 10 * H - 24 * H + 1 }, 'reopen'],
    ['closed exactly reopen_within before', { closed_at: 10 * H - 24 * H }, 'new'],
    ['closed 2 days before', { closed_at: 10 * H - 48 * H }, 'new'],
  ] as const)('%s → %s', (_label, latest, expected) => {
    expect(chooseConversation(latest, 10 * H, 24 * H)).toBe(expected);
  });
});

describe('afterCustomerMessage', () => {
  it('a new conversation starts open with one unanswered message, one turn and a 24 h window', () => {
    expect(newConversationFigures(5 * H)).toEqual({
      queue_state: 'open',
      last_message_at: 5 * H,
      last_customer_message_at: 5 * H,
      last_business_message_at: null,
      window_expires_at: 29 * H,
      unanswered_count: 1,
      turns_total: 1,
    });
  });

  it.each<[string, Partial<ConversationFigures>, number, Partial<ConversationFigures>]>([
    [
      'another message in the same turn',
      {},
      11 * H,
      { unanswered_count: 2, turns_total: 1, last_message_at: 11 * H, window_expires_at: 35 * H },
    ],
    [
      'the first message after a business reply starts a turn',
      { unanswered_count: 0, last_business_message_at: 10.5 * H, last_message_at: 10.5 * H },
      11 * H,
      { unanswered_count: 1, turns_total: 2 },
    ],
    [
      'a late message older than the business reply was already answered',
      { unanswered_count: 0, last_business_message_at: 10.5 * H, last_message_at: 10.5 * H },
      10.2 * H,
      { unanswered_count: 0, turns_total: 1, last_message_at: 10.5 * H, last_customer_message_at: 10.2 * H },
    ],
    [
      'an out-of-order older message does not move times back',
      {},
      9 * H,
      {
        last_message_at: 10 * H,
        last_customer_message_at: 10 * H,
        window_expires_at: 34 * H,
        unanswered_count: 2,
      },
    ],
    [
      'pending becomes open',
      { queue_state: 'pending', unanswered_count: 0 },
      11 * H,
      { queue_state: 'open' },
    ],
    ['closed (reopened) becomes open', { queue_state: 'closed' }, 11 * H, { queue_state: 'open' }],
    ['escalated stays escalated', { queue_state: 'escalated' }, 11 * H, { queue_state: 'escalated' }],
  ])('%s', (_label, start, at, expected) => {
    expect(afterCustomerMessage({ ...base, ...start }, at)).toMatchObject(expected);
  });

  it('a passive message moves only the activity time', () => {
    expect(afterPassiveMessage(base, 12 * H)).toEqual({ ...base, last_message_at: 12 * H });
    expect(afterPassiveMessage(base, 8 * H)).toEqual(base);
  });
});
