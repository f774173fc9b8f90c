// How an inbound customer message changes a conversation's counters and state, as plain functions.
// The conversation engine (SPEC §4) builds its state machine on top; this part keeps the figures
// the snapshot shows right: activity times, the 24 h service window, unanswered messages, turns.
import type { QueueState } from '../store/tables.js';

/** Customer service window: 24 h after the customer's last message (SPEC §4). */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ConversationFigures {
  queue_state: QueueState;
  last_message_at: number;
  last_customer_message_at: number | null;
  last_business_message_at: number | null;
  window_expires_at: number | null;
  unanswered_count: number;
  turns_total: number;
}

/** Which conversation a customer message lands in, given the latest one with that customer. */
export function chooseConversation(
  latest: { closed_at: number | null } | undefined,
  messageAt: number,
  reopenWithin: number,
): 'current' | 'reopen' | 'new' {
  if (!latest) return 'new';
  if (latest.closed_at === null) return 'current';
  return messageAt - latest.closed_at < reopenWithin ? 'reopen' : 'new';
}

/** Figures of a conversation that a customer message at `at` has just started. */
export function newConversationFigures(at: number): ConversationFigures {
  return {
    queue_state: 'open',
    last_message_at: at,
    last_customer_message_at: at,
    last_business_message_at: null,
    window_expires_at: at + SERVICE_WINDOW_MS,
    unanswered_count: 1,
    turns_total: 1,
  };
}

/**
 * The conversation after a customer message at `at`. Messages can be processed out of order: one
 * older than the business's last message was already answered, so it does not count as waiting.
 */
export function afterCustomerMessage(conv: ConversationFigures, at: number): ConversationFigures {
  const lastCustomer = Math.max(conv.last_customer_message_at ?? at, at);
  const answered = conv.last_business_message_at !== null && at <= conv.last_business_message_at;
  const next: ConversationFigures = {
    ...conv,
    last_message_at: Math.max(conv.last_message_at, at),
    last_customer_message_at: lastCustomer,
    window_expires_at: lastCustomer + SERVICE_WINDOW_MS,
  };
  if (!answered) {
    // A customer turn is a run of customer messages with no business message between them.
    if (conv.unanswered_count === 0) next.turns_total = conv.turns_total + 1;
    next.unanswered_count = conv.unanswered_count + 1;
  }
  // The customer is waiting again: pending (and a reopened closed one) becomes open; an escalated
  // conversation stays escalated until a human acts (SPEC §4).
  if (conv.queue_state === 'pending' || conv.queue_state === 'closed') next.queue_state = 'open';
  return next;
}

/** A passive message (reaction, system notice) only moves the activity time. */
export function afterPassiveMessage(conv: ConversationFigures, at: number): ConversationFigures {
  return { ...conv, last_message_at: Math.max(conv.last_message_at, at) };
}
