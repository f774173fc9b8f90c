// The customer service window (SPEC §4): free-form messages may go out until 24 h after the
// customer's last message timestamp; after that only approved templates.
import type { ConversationFacts } from './conversation.js';

export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** When the window closes, or null when the customer never wrote. */
export function windowExpiresAt(conv: Pick<ConversationFacts, 'last_customer_message_at'>): number | null {
  const last = conv.last_customer_message_at;
  return last === null ? null : last + SERVICE_WINDOW_MS;
}

/** True while a free-form message may be sent; the window is closed at exactly 24 h. */
export function isWindowOpen(
  conv: Pick<ConversationFacts, 'last_customer_message_at'>,
  now: number,
): boolean {
  const expires = windowExpiresAt(conv);
  return expires !== null && now < expires;
}
