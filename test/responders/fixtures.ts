// Builders for responder inputs in tests.
import type { ResponderInput, ResponderMessage } from '../../src/responders/contract.js';

const T0 = Date.UTC(2026, 0, 5, 8);

export function input(
  messages: (string | [ResponderMessage['direction'], string | null])[],
  cls = 'general',
): ResponderInput {
  return {
    conversation: { id: '01JTESTCONV', conversation_class: cls, assigned_route: 'ai' },
    recentMessages: messages.map((m, i) => {
      const [direction, text] = typeof m === 'string' ? (['inbound', m] as const) : m;
      return { direction, text, at: T0 + i * 1000 };
    }),
    classification: { class: cls },
  };
}
