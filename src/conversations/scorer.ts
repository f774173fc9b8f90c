// The built-in scorer (SPEC §4): intent and sentiment from a text with a lexicon model, deterministic
// and explainable. The language is the configured one whose lexicon recognises most words; only its
// lexicon scores the text, so words that differ in meaning across languages ("gift", "fast") stay apart.
// Sentiment: sum of word weights, each scaled by an intensifier just before it and flipped (damped) by a
// negation up to three words before it within the clause, amplified by "!", squashed into [-1, 1].
import { INTENTS, type Intent, type Lexicon, lexiconsFor } from './lexicon.js';
import { BOUNDARY, MAX_MATCHED_CHARS, tokenize } from './word-match.js';

export type ScoreIntent = Intent | 'other';

export type ScoreReason =
  | {
      kind: 'sentiment';
      term: string;
      /** The weight as counted, after intensifier and negation. */
      weight: number;
      negated: boolean;
      intensifier: string | null;
    }
  | { kind: 'intent'; intent: Intent; term: string }
  | { kind: 'emphasis'; term: '!'; factor: number };

export interface Score {
  /** The lexicon used, or null when no configured lexicon knows any word of the text. */
  language: string | null;
  intent: ScoreIntent;
  /** Every intent the text shows, strongest first. */
  intents: Intent[];
  /** In [-1, 1]; 0 is neutral. */
  sentiment: number;
  reasons: ScoreReason[];
}

const NEGATION_WINDOW = 3;
/** A negated positive turns mildly negative; a negated negative ("not bad") only softens. */
const NEGATED_POSITIVE = -0.75;
const NEGATED_NEGATIVE = -0.5;
const EMPHASIS_PER_MARK = 0.15;
const MAX_EMPHASIS_MARKS = 3;
/** Squash constant: a sum of -3 (one strong word, "terrible") maps to about -0.73. */
const SQUASH = 8;
/** With no intent words, text at least this negative reads as a complaint. */
const COMPLAINT_SENTIMENT = -0.5;

export const DEFAULT_LANGUAGES = ['en', 'es', 'pt', 'de'] as const;

function recognised(lex: Lexicon, tokens: string[]): number {
  let n = 0;
  for (const t of tokens) if (lex.markers.has(t)) n++;
  n += lex.sentiment.findAll(tokens).length;
  n += lex.intents.findAll(tokens).length;
  return n;
}

function detect(lexicons: Lexicon[], tokens: string[]): Lexicon | null {
  let best: Lexicon | null = null;
  let bestCount = 0;
  for (const lex of lexicons) {
    const n = recognised(lex, tokens);
    if (n > bestCount) {
      best = lex;
      bestCount = n;
    }
  }
  return best;
}

function isNegation(lex: Lexicon, token: string): boolean {
  return lex.negations.has(token) || token.endsWith("n't");
}

function negatedAt(lex: Lexicon, tokens: string[], index: number): boolean {
  for (let k = index - 1; k >= 0 && k >= index - NEGATION_WINDOW; k--) {
    const t = tokens[k] as string;
    if (t === BOUNDARY) return false;
    if (isNegation(lex, t)) return true;
  }
  return false;
}

function sentimentOf(lex: Lexicon, tokens: string[], text: string, reasons: ScoreReason[]): number {
  let sum = 0;
  for (let i = 0; i < tokens.length; ) {
    const hit = lex.sentiment.matchAt(tokens, i);
    if (!hit) {
      i++;
      continue;
    }
    i += hit.length;
    if (hit.value.kind === 'neutral') continue;
    let weight = hit.value.weight;
    const before = tokens[hit.index - 1];
    const factor = before === undefined ? undefined : lex.intensifiers.get(before);
    if (factor !== undefined) weight *= factor;
    const negated = negatedAt(lex, tokens, hit.index);
    if (negated) weight *= weight > 0 ? NEGATED_POSITIVE : NEGATED_NEGATIVE;
    weight = round(weight);
    sum += weight;
    reasons.push({
      kind: 'sentiment',
      term: hit.phrase,
      weight,
      negated,
      intensifier: factor !== undefined ? (before as string) : null,
    });
  }
  const marks = Math.min(MAX_EMPHASIS_MARKS, (text.match(/!/g) ?? []).length);
  if (sum !== 0 && marks > 0) {
    const factor = round(1 + EMPHASIS_PER_MARK * marks);
    sum *= factor;
    reasons.push({ kind: 'emphasis', term: '!', factor });
  }
  return round(sum / Math.sqrt(sum * sum + SQUASH));
}

function round(n: number): number {
  const r = Math.round(n * 1000) / 1000;
  return Object.is(r, -0) ? 0 : r;
}

/** Scores one text against the lexicons of the configured languages. */
export function scoreText(text: string, languages: readonly string[] = DEFAULT_LANGUAGES): Score {
  const capped = text.slice(0, MAX_MATCHED_CHARS);
  const tokens = tokenize(capped);
  const lex = detect(lexiconsFor(languages), tokens);
  const reasons: ScoreReason[] = [];
  const sentiment = lex ? sentimentOf(lex, tokens, capped, reasons) : 0;

  const found = new Set<Intent>();
  if (lex) {
    for (const hit of lex.intents.findAll(tokens)) {
      found.add(hit.value);
      reasons.push({ kind: 'intent', intent: hit.value, term: hit.phrase });
    }
  }
  if (/[?¿]/.test(capped)) {
    found.add('question');
    reasons.push({ kind: 'intent', intent: 'question', term: '?' });
  }
  if (found.size === 0 && sentiment <= COMPLAINT_SENTIMENT) {
    found.add('complaint');
    reasons.push({ kind: 'intent', intent: 'complaint', term: '(negative sentiment)' });
  }
  const intents = INTENTS.filter((i) => found.has(i));
  return { language: lex?.language ?? null, intent: intents[0] ?? 'other', intents, sentiment, reasons };
}

/**
 * Scores a conversation from its customer messages, oldest first. The newest messages win the
 * length cap; a boundary between messages keeps phrases from spanning two of them.
 */
export function scoreConversation(texts: readonly string[], languages?: readonly string[]): Score {
  const picked: string[] = [];
  let length = 0;
  for (let i = texts.length - 1; i >= 0; i--) {
    const t = texts[i] as string;
    if (length + t.length > MAX_MATCHED_CHARS && picked.length > 0) break;
    picked.unshift(t);
    length += t.length + 3;
  }
  return scoreText(picked.join(' . '), languages);
}
