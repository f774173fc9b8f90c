// Per-conversation figures of the snapshot (SPEC §4, turns as §8 defines them), kept as counters that
// move with each event instead of being recounted from history.
import type { ConversationFacts, QueueState } from './conversation.js';

export type TurnCounters = Pick<ConversationFacts, 'turns_total' | 'turns_answered' | 'unanswered_count'>;

export const ZERO_TURNS: TurnCounters = { turns_total: 0, turns_answered: 0, unanswered_count: 0 };

/** A customer message: it starts a new turn unless the current one is still unanswered. */
export function countCustomerMessage<T extends TurnCounters>(c: T): T {
  return {
    ...c,
    turns_total: c.unanswered_count === 0 ? c.turns_total + 1 : c.turns_total,
    unanswered_count: c.unanswered_count + 1,
  };
}

/** A business message accepted by the API: it answers the open turn, if there is one. */
export function countBusinessReply<T extends TurnCounters>(c: T): T {
  return {
    ...c,
    turns_answered: c.unanswered_count > 0 ? c.turns_answered + 1 : c.turns_answered,
    unanswered_count: 0,
  };
}

/** Answered customer turns / customer turns; null before the customer wrote anything. */
export function replyRate(c: Pick<TurnCounters, 'turns_total' | 'turns_answered'>): number | null {
  if (c.turns_total === 0) return null;
  return c.turns_answered / c.turns_total;
}

/**
 * Unanswered customer messages + outbound messages not yet accepted by the API. A closed conversation's
 * unanswered messages no longer count: nobody works on them (as the runtime figure of §8 excludes them).
 */
export function queuePressure(input: {
  queue_state: QueueState;
  unanswered_count: number;
  /** Outbound messages to this conversation still queued or retrying. */
  outbound_pending: number;
}): number {
  const waiting = input.queue_state === 'closed' ? 0 : input.unanswered_count;
  return waiting + input.outbound_pending;
}
