// What a responder is (SPEC §4 auto-reply): given a conversation and its recent messages, produce a
// reply text or say why not. The implementations (rules.ts, openai-compatible.ts) and the factory
// (responder.ts) depend on this file, never on each other's module for these types.
import type { Route } from '../conversations/conversation.js';

export interface ResponderMessage {
  direction: 'inbound' | 'outbound';
  /** Body, caption or button title; null for media without caption. */
  text: string | null;
  at: number;
  /** The id of the button or list row the customer chose (inbound interactive / button messages). */
  reply_id?: string | null;
}

export interface ResponderInput {
  conversation: {
    id: string;
    conversation_class: string;
    assigned_route: Route;
    contact_name?: string | null;
  };
  /** Oldest first; the newest customer message is what the reply answers. */
  recentMessages: ResponderMessage[];
  classification: { class: string; intent?: string };
}

export type ResponderSource = 'rules' | 'openai-compatible';

export type Reply =
  | {
      kind: 'text';
      text: string;
      source: ResponderSource;
      rule_id?: string;
      /** Sent as reply buttons with `text` as their body (rules with `buttons`). */
      buttons?: { id: string; title: string }[];
    }
  | { kind: 'none'; reason: string };

export interface Responder {
  readonly kind: ResponderSource;
  reply(input: ResponderInput): Promise<Reply>;
}

/** WhatsApp's limit for a text message body. */
export const MAX_REPLY_CHARS = 4096;
