// The built-in `rules` responder: the first configured rule whose keywords appear (as whole words) in
// the newest customer message, or whose classes include the conversation's class, gives the reply.
// Deterministic and offline; with no rules configured it never answers (SPEC §1: nothing is sent by
// default).
import type { Config } from '../config/schema.js';
import { PhraseMatcher, tokenize } from '../conversations/word-match.js';
import type { Reply, Responder, ResponderInput } from './contract.js';

type RuleConfig = Config['responder']['rules'][number];

interface CompiledRule {
  rule: RuleConfig;
  keywords: PhraseMatcher<string> | null;
  classes: Set<string>;
  replyIds: Set<string>;
}

function compile(rules: readonly RuleConfig[]): CompiledRule[] {
  return rules.map((rule) => ({
    rule,
    keywords: rule.keywords?.length
      ? new PhraseMatcher(rule.keywords.map((k) => ({ phrase: k, value: k })))
      : null,
    classes: new Set(rule.classes ?? []),
    replyIds: new Set(rule.reply_ids ?? []),
  }));
}

function newestCustomerMessage(input: ResponderInput): { text: string; reply_id: string | null } {
  for (let i = input.recentMessages.length - 1; i >= 0; i--) {
    const m = input.recentMessages[i];
    if (m?.direction === 'inbound') return { text: m.text ?? '', reply_id: m.reply_id ?? null };
  }
  return { text: '', reply_id: null };
}

export function createRulesResponder(rules: readonly RuleConfig[]): Responder {
  const compiled = compile(rules);
  return {
    kind: 'rules',
    async reply(input): Promise<Reply> {
      if (compiled.length === 0) return { kind: 'none', reason: 'no responder rules configured' };
      const { text, reply_id } = newestCustomerMessage(input);
      const tokens = tokenize(text);
      for (const [index, c] of compiled.entries()) {
        const byKeyword = c.keywords?.first(tokens, text) !== undefined;
        const byClass = c.classes.has(input.classification.class);
        const byReply = reply_id !== null && c.replyIds.has(reply_id);
        if (byKeyword || byClass || byReply) {
          return {
            kind: 'text',
            text: c.rule.reply,
            source: 'rules',
            rule_id: c.rule.id ?? `#${index}`,
            ...(c.rule.buttons ? { buttons: c.rule.buttons } : {}),
          };
        }
      }
      return { kind: 'none', reason: 'no responder rule matched' };
    },
  };
}
