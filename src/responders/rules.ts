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
}

function compile(rules: readonly RuleConfig[]): CompiledRule[] {
  return rules.map((rule) => ({
    rule,
    keywords: rule.keywords?.length
      ? new PhraseMatcher(rule.keywords.map((k) => ({ phrase: k, value: k })))
      : null,
    classes: new Set(rule.classes ?? []),
  }));
}

function newestCustomerText(input: ResponderInput): string {
  for (let i = input.recentMessages.length - 1; i >= 0; i--) {
    const m = input.recentMessages[i];
    if (m?.direction === 'inbound') return m.text ?? '';
  }
  return '';
}

export function createRulesResponder(rules: readonly RuleConfig[]): Responder {
  const compiled = compile(rules);
  return {
    kind: 'rules',
    async reply(input): Promise<Reply> {
      if (compiled.length === 0) return { kind: 'none', reason: 'no responder rules configured' };
      const text = newestCustomerText(input);
      const tokens = tokenize(text);
      for (const [index, c] of compiled.entries()) {
        const byKeyword = c.keywords?.first(tokens, text) !== undefined;
        const byClass = c.classes.has(input.classification.class);
        if (byKeyword || byClass) {
          return { kind: 'text', text: c.rule.reply, source: 'rules', rule_id: c.rule.id ?? `#${index}` };
        }
      }
      return { kind: 'none', reason: 'no responder rule matched' };
    },
  };
}
