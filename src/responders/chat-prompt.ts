// The bounded prompt for a chat-completions call: the system prompt, then the conversation's newest
// messages (customer → user, business → assistant), never more than max_context_messages of them and
// never more than max_prompt_chars characters in all, so a long history cannot blow up cost or latency.
import type { Config } from '../config/schema.js';
import type { ResponderInput } from './contract.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type PromptLimits = Pick<
  Config['responder']['openai'],
  'system_prompt' | 'max_context_messages' | 'max_prompt_chars'
>;

const ELLIPSIS = '…';

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return text.slice(0, max);
  return text.slice(0, max - ELLIPSIS.length) + ELLIPSIS;
}

export function buildChatMessages(input: ResponderInput, limits: PromptLimits): ChatMessage[] {
  // The system prompt may take at most half the budget, so the customer's words always fit.
  const system = cut(limits.system_prompt, Math.floor(limits.max_prompt_chars / 2));
  let budget = limits.max_prompt_chars - system.length;
  const usable = input.recentMessages.filter((m) => m.text !== null && m.text.trim() !== '');
  const recent = usable.slice(-limits.max_context_messages);
  const picked: ChatMessage[] = [];
  for (let i = recent.length - 1; i >= 0 && budget > 0; i--) {
    const m = recent[i];
    if (!m) continue;
    const text = m.text as string;
    const role = m.direction === 'inbound' ? 'user' : 'assistant';
    if (text.length <= budget) {
      picked.unshift({ role, content: text });
      budget -= text.length;
    } else {
      // The newest message is cut rather than dropped; older ones that do not fit end the history.
      if (picked.length === 0) picked.unshift({ role, content: cut(text, budget) });
      break;
    }
  }
  const out: ChatMessage[] = [];
  if (system !== '') out.push({ role: 'system', content: system });
  return out.concat(picked);
}
