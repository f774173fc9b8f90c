// Escalation rules (SPEC §4), each switched off by setting it to null (or false): a keyword in a
// customer message, sentiment below a threshold, N customer messages without a business reply, an
// `open` human/hybrid conversation unanswered past its SLA, a permanently failed send.
import type { Config } from '../config/schema.js';
import { formatDuration } from '../lib/duration.js';
import type { ConversationFacts } from './conversation.js';
import { type Score, scoreText } from './scorer.js';
import { PhraseMatcher, tokenize } from './word-match.js';

export type EscalationConfig = Config['escalation'];

export type EscalationRule =
  | 'keyword'
  | 'sentiment'
  | 'unanswered_messages'
  | 'sla_breach'
  | 'permanent_failure'
  | 'requested';

export interface EscalationDecision {
  rule: EscalationRule;
  /** One sentence for the snapshot's escalation_reason and the transition log. */
  reason: string;
}

export interface KeywordMatch {
  language: string;
  keyword: string;
}

const keywordMatchers = new WeakMap<object, PhraseMatcher<KeywordMatch>>();

function keywordMatcher(keywords: EscalationConfig['keywords']): PhraseMatcher<KeywordMatch> {
  let m = keywordMatchers.get(keywords);
  if (!m) {
    m = new PhraseMatcher(
      Object.entries(keywords).flatMap(([language, words]) =>
        words.map((keyword) => ({ phrase: keyword, value: { language, keyword } })),
      ),
    );
    keywordMatchers.set(keywords, m);
  }
  return m;
}

/**
 * The first escalation keyword in the text, as a whole word or phrase, ignoring case and accents.
 * Every language's list applies: a customer may switch language, and whole words rarely collide.
 */
export function matchEscalationKeyword(
  text: string | null,
  keywords: EscalationConfig['keywords'],
): KeywordMatch | null {
  if (!text) return null;
  return keywordMatcher(keywords).first(tokenize(text), text)?.value ?? null;
}

export interface MessageEscalationInput {
  text: string | null;
  /** Customer messages without a business reply, this one included. */
  unanswered_count: number;
  /** The message's score, when the caller already has it. */
  score?: Score;
}

/** The first rule a new customer message fires: keyword, then sentiment, then unanswered count. */
export function evaluateMessageEscalation(
  input: MessageEscalationInput,
  escalation: EscalationConfig,
  languages?: readonly string[],
): EscalationDecision | null {
  const keyword = matchEscalationKeyword(input.text, escalation.keywords);
  if (keyword) {
    return { rule: 'keyword', reason: `keyword "${keyword.keyword}" (${keyword.language})` };
  }
  if (escalation.sentiment_threshold !== null && input.text) {
    const score = input.score ?? scoreText(input.text, languages);
    if (score.sentiment < escalation.sentiment_threshold) {
      return {
        rule: 'sentiment',
        reason: `sentiment ${score.sentiment} below ${escalation.sentiment_threshold}`,
      };
    }
  }
  if (escalation.unanswered_messages !== null && input.unanswered_count >= escalation.unanswered_messages) {
    return {
      rule: 'unanswered_messages',
      reason: `${input.unanswered_count} customer messages without a reply`,
    };
  }
  return null;
}

type SlaFacts = Pick<ConversationFacts, 'queue_state' | 'assigned_route' | 'last_customer_message_at'>;

/** When the SLA runs out for this conversation, or null when the SLA rule does not apply to it. */
export function slaDueAt(conv: SlaFacts, escalation: EscalationConfig): number | null {
  if (escalation.sla === null) return null;
  if (conv.queue_state !== 'open') return null;
  if (conv.assigned_route !== 'human' && conv.assigned_route !== 'hybrid') return null;
  if (conv.last_customer_message_at === null) return null;
  return conv.last_customer_message_at + escalation.sla;
}

export function isSlaBreached(conv: SlaFacts, now: number, escalation: EscalationConfig): boolean {
  const due = slaDueAt(conv, escalation);
  return due !== null && now >= due;
}

export function slaEscalation(escalation: EscalationConfig): EscalationDecision {
  const sla = escalation.sla === null ? 'its SLA' : formatDuration(escalation.sla);
  return { rule: 'sla_breach', reason: `no reply within ${sla}` };
}

/** Escalation for a permanently failed send, or null when that rule is off. */
export function permanentFailureEscalation(
  escalation: EscalationConfig,
  errorCode?: number | string | null,
): EscalationDecision | null {
  if (!escalation.on_permanent_failure) return null;
  const code = errorCode === undefined || errorCode === null ? '' : ` (${errorCode})`;
  return { rule: 'permanent_failure', reason: `an outbound message failed permanently${code}` };
}
