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
    case 'edit':
      // The new content: the edited message's own text or caption.
      return m.edit?.message ? messageText(m.edit.message as Partial<InboundMessage>) : null;
    case 'revoke':
      return null;
    default:
      return m.text?.body ?? null;
  }
}

/**
 * The id behind a customer's choice: a reply button or list row (interactive) or a template's quick
 * reply button (its payload). Classes and responder rules can match on it (SPEC §12).
 */
export function replyId(m: Partial<InboundMessage>): string | null {
  if (m.type === 'interactive') {
    return m.interactive?.button_reply?.id ?? m.interactive?.list_reply?.id ?? null;
  }
  if (m.type === 'button') return m.button?.payload ?? null;
  return null;
}

/** The wamid this message replies or reacts to, if any (a forward is not a reply). */
export function contextWamid(m: Partial<InboundMessage>): string | null {
  return (
    revisionTarget(m) ?? m.context?.id ?? (m.type === 'reaction' ? (m.reaction?.message_id ?? null) : null)
  );
}

/** The wamid an edit or revoke changes (null for any other message). */
export function revisionTarget(m: Partial<InboundMessage>): string | null {
  if (m.type === 'edit') return m.edit?.original_message_id ?? null;
  if (m.type === 'revoke') return m.revoke?.original_message_id ?? null;
  return null;
}

export function messageError(
  m: Partial<InboundMessage>,
  valueError?: { code: number; title?: string; message?: string },
): { code: number | null; title: string | null } {
  const e = m.errors?.[0] ?? valueError;
  return { code: e?.code ?? null, title: e?.title ?? e?.message ?? null };
}

/**
 * "customer": the customer wrote something that waits for an answer (opens or reopens the
 * conversation, counts as unanswered, opens the service window).
 * "passive": a reaction, a system notice (number change), an edit or a revoke of an earlier message:
 * recorded, but it neither asks for an answer nor reopens anything (SPEC §3a).
 */
export const PASSIVE_TYPES: ReadonlySet<string> = new Set(['reaction', 'system', 'edit', 'revoke']);

export function messageRole(type: string): 'customer' | 'passive' {
  return PASSIVE_TYPES.has(type) ? 'passive' : 'customer';
}
