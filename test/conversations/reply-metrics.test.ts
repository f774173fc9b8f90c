import { describe, expect, it } from 'vitest';
import {
  countBusinessReply,
  countCustomerMessage,
  queuePressure,
  replyRate,
  type TurnCounters,
  ZERO_TURNS,
} from '../../src/conversations/reply-metrics.js';

function run(events: string): TurnCounters {
  let c = ZERO_TURNS;
  for (const e of events) c = e === 'c' ? countCustomerMessage(c) : countBusinessReply(c);
  return c;
}

describe('turn counters and reply_rate', () => {
  it.each([
    ['', 0, 0, 0, null],
    ['c', 1, 0, 1, 0],
    ['ccc', 1, 0, 3, 0],
    ['cb', 1, 1, 0, 1],
    ['ccbcb', 2, 2, 0, 1],
    ['cbc', 2, 1, 1, 0.5],
    ['bbc', 1, 0, 1, 0],
    ['cbbbc', 2, 1, 1, 0.5],
    ['cbcbcc', 3, 2, 2, 2 / 3],
  ])('%j → %i turns, %i answered, %i unanswered, rate %s', (events, turns, answered, unanswered, rate) => {
    const c = run(events);
    expect(c).toEqual({ turns_total: turns, turns_answered: answered, unanswered_count: unanswered });
    expect(replyRate(c)).toBe(rate);
  });

  it('returns new objects and leaves the input alone', () => {
    const before = Object.freeze({ ...ZERO_TURNS });
    const after = countCustomerMessage(before);
    expect(after).not.toBe(before);
    expect(before.unanswered_count).toBe(0);
  });
});

describe('queue_pressure', () => {
  it.each([
    ['open', 2, 0, 2],
    ['open', 2, 3, 5],
    ['pending', 0, 1, 1],
    ['escalated', 4, 0, 4],
    ['closed', 4, 1, 1],
  ] as const)(
    '%s with %i unanswered and %i outbound pending → %i',
    (state, unanswered, pending, expected) => {
      expect(
        queuePressure({ queue_state: state, unanswered_count: unanswered, outbound_pending: pending }),
      ).toBe(expected);
    },
  );
});
