// What the daemon reads out of an inbound message object: its display text, reply-to wamid, error,
// and whether it is the customer talking (a turn that waits for an answer) or only a passive event.
import type { InboundMessage } from '../webhook/payload.js';

/** Body, caption, button or list title, reaction emoji, order note, or system notice. */
export function messageText(m: Partial<InboundMessage>): string | null {
  switch (m.type) {
    case 'text':
      return m.text?.body ?? null;
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker':
      return m[m.type]?.caption ?? null;
    case 'interactive':
      return (
        m.interactive?.button_reply?.title ??
        m.interactive?.list_reply?.title ??
        m.interactive?.nfm_reply?.body ??
        null
      );
    case 'button':
      return m.button?.text ?? m.button?.payload ?? null;
    case 'reaction':
      // An omitted or empty emoji means the reaction was removed.
      return m.reaction?.emoji ? m.reaction.emoji : null;
    case 'order':
      return m.order?.text ?? null;
    case 'location':
      return m.location?.name ?? m.location?.address ?? null;
    case 'system':
      return m.system?.body ?? null;
    default:
      return m.text?.body ?? null;
  }
}

/** The wamid this message replies or reacts to, if any (a forward is not a reply). */
export function contextWamid(m: Partial<InboundMessage>): string | null {
  return m.context?.id ?? (m.type === 'reaction' ? (m.reaction?.message_id ?? null) : null);
}

export function messageError(m: Partial<InboundMessage>): { code: number | null; title: string | null } {
  const e = m.errors?.[0];
  return { code: e?.code ?? null, title: e?.title ?? e?.message ?? null };
}

/**
 * "customer": the customer wrote something that waits for an answer (opens or reopens the
 * conversation, counts as unanswered, opens the service window).
 * "passive": a reaction or a system notice (number change): recorded in the conversation, but it
 * neither asks for an answer nor reopens anything.
 */
export function messageRole(type: string): 'customer' | 'passive' {
  return type === 'reaction' || type === 'system' ? 'passive' : 'customer';
}
