// The conversation as the engine sees it: plain facts, no storage. The store maps its rows to this
// shape and back; the state machine only ever returns a new copy.
import type { Config } from '../config/schema.js';

export const QUEUE_STATES = ['open', 'pending', 'escalated', 'closed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export const ROUTES = ['ai', 'hybrid', 'human'] as const;
export type Route = (typeof ROUTES)[number];

export type Priority = 'low' | 'normal' | 'high';

export const CLOSE_REASONS = ['intent', 'idle', 'opt_out'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface ConversationFacts {
  queue_state: QueueState;
  assigned_route: Route;
  conversation_class: string;
  priority: Priority;
  /** The contact's opt-out flag, copied in by the caller: it lives on the contact, not here. */
  opted_out: boolean;
  opened_at: number;
  /** Timestamp (ms) of the newest customer message; the 24 h window counts from it. */
  last_customer_message_at: number | null;
  /** When the newest business message was accepted by the API. */
  last_business_message_at: number | null;
  closed_at: number | null;
  closed_reason: CloseReason | null;
  escalation_reason: string | null;
  /** Customer turns (SPEC §8): runs of customer messages with no business message between them. */
  turns_total: number;
  /** Turns answered by an accepted business message. */
  turns_answered: number;
  /** Customer messages since the last accepted business message. */
  unanswered_count: number;
}

/** One recorded change of queue_state (or of route, with from === to). */
export interface TransitionRecord {
  /** null when the conversation is new. */
  from: QueueState | null;
  to: QueueState;
  reason: string;
  actor: string;
  at: number;
}

/** The parts of the configuration the engine reads. */
export type EngineConfig = Pick<
  Config,
  'conversations' | 'escalation' | 'opt_out' | 'conversation_classes' | 'runtime' | 'scorer'
>;
