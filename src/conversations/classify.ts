// Conversation classes (SPEC §4): the first message of a conversation picks its class. Within a class
// any value of one kind of criterion will do (OR); across kinds `match.mode` decides: `all` (the
// default) needs every listed kind to hold, so "image messages from an ad" is one class, `any` needs
// one of them ("an order keyword or an order number"). A class that lists no criteria never matches.
// The first matching class wins; otherwise the class is `general`.
import { compileOperatorPattern, type OperatorPattern } from '../config/operator-regex.js';
import type { Config } from '../config/schema.js';
import type { Priority, Route } from './conversation.js';
import { routeFor } from './routing.js';
import { MAX_MATCHED_CHARS, PhraseMatcher, tokenize } from './word-match.js';

export const DEFAULT_CLASS = 'general';

export interface ClassifyInput {
  /** Body, caption or button title; null for messages without text. */
  text: string | null;
  message_type: string;
  /** The id of the button or list row the customer chose, when they chose one. */
  reply_id?: string | null;
  /** Click-to-WhatsApp referral, when the message carried one. */
  referral?: { source_type?: string | null; source_id?: string | null; source_url?: string | null } | null;
}

export interface ClassMatch {
  by: 'keyword' | 'pattern' | 'message_type' | 'referral_source' | 'reply_id' | 'default';
  value: string;
}

export interface Classification {
  class: string;
  route: Route;
  priority: Priority;
  follow_up_rule: string | null;
  /** Why this class: the criteria that matched. */
  matched: ClassMatch[];
}

type ClassConfig = Config['conversation_classes'][number];

interface CompiledClass {
  config: ClassConfig;
  keywords: PhraseMatcher<string> | null;
  patterns: { source: string; re: OperatorPattern }[] | null;
  messageTypes: Set<string> | null;
  referralSources: Set<string> | null;
  replyIds: Set<string> | null;
}

// Config objects are frozen and long-lived: compile each class list once.
const compiled = new WeakMap<readonly ClassConfig[], CompiledClass[]>();

function compile(classes: readonly ClassConfig[]): CompiledClass[] {
  const hit = compiled.get(classes);
  if (hit) return hit;
  const out = classes.map((c): CompiledClass => {
    const m = c.match;
    return {
      config: c,
      keywords: m.keywords?.length
        ? new PhraseMatcher(m.keywords.map((k) => ({ phrase: k, value: k })))
        : null,
      // Patterns were checked at config load; RE2 matching is linear in the (capped) text.
      patterns: m.patterns?.length
        ? m.patterns.map((p) => ({ source: p, re: compileOperatorPattern(p) }))
        : null,
      messageTypes: m.message_types?.length ? new Set(m.message_types.map((t) => t.toLowerCase())) : null,
      replyIds: m.reply_ids?.length ? new Set(m.reply_ids) : null,
      referralSources: m.referral_source?.length
        ? new Set(m.referral_source.map((s) => s.toLowerCase()))
        : null,
    };
  });
  compiled.set(classes, out);
  return out;
}

function matchClass(
  c: CompiledClass,
  input: ClassifyInput,
  tokens: string[],
  text: string,
): ClassMatch[] | null {
  // One entry per kind of criterion the class lists: the hit, or null when it does not hold.
  const results: (ClassMatch | null)[] = [];
  if (c.keywords) {
    const hit = c.keywords.first(tokens, text);
    results.push(hit ? { by: 'keyword', value: hit.value } : null);
  }
  if (c.patterns) {
    const hit = c.patterns.find((p) => p.re.test(text));
    results.push(hit ? { by: 'pattern', value: hit.source } : null);
  }
  if (c.messageTypes) {
    const ok = c.messageTypes.has(input.message_type.toLowerCase());
    results.push(ok ? { by: 'message_type', value: input.message_type } : null);
  }
  if (c.referralSources) {
    const r = input.referral;
    const candidates = [r?.source_type, r?.source_id, r?.source_url].filter(
      (v): v is string => typeof v === 'string' && v !== '',
    );
    const hit = candidates.find((v) => c.referralSources?.has(v.toLowerCase()));
    results.push(hit === undefined ? null : { by: 'referral_source', value: hit });
  }
  if (c.replyIds) {
    results.push(
      input.reply_id && c.replyIds.has(input.reply_id) ? { by: 'reply_id', value: input.reply_id } : null,
    );
  }
  if (results.length === 0) return null;
  const matched = results.filter((m): m is ClassMatch => m !== null);
  if (c.config.match.mode === 'any') return matched.length > 0 ? matched : null;
  return matched.length === results.length ? matched : null;
}

export function classify(
  input: ClassifyInput,
  config: Pick<Config, 'conversation_classes' | 'runtime'>,
): Classification {
  // The cap bounds pattern work per message: linear time over at most this many characters.
  const text = (input.text ?? '').slice(0, MAX_MATCHED_CHARS);
  const tokens = tokenize(text);
  for (const c of compile(config.conversation_classes)) {
    const matched = matchClass(c, input, tokens, text);
    if (matched) {
      return {
        class: c.config.name,
        route: routeFor(c.config, config.runtime.automation_mode),
        priority: c.config.priority,
        follow_up_rule: c.config.follow_up_rule ?? null,
        matched,
      };
    }
  }
  return {
    class: DEFAULT_CLASS,
    route: routeFor({ priority: 'normal' }, config.runtime.automation_mode),
    priority: 'normal',
    follow_up_rule: null,
    matched: [{ by: 'default', value: DEFAULT_CLASS }],
  };
}
