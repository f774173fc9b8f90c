// Opt-out and opt-in keywords (SPEC §4): a message counts only when it is exactly a keyword, ignoring
// case and surrounding space, so "stop" and " STOP " opt out but "Stop." or "please stop" do not
// (an operator who wants "Stop." lists it).
import type { Config } from '../config/schema.js';

export interface KeywordHit {
  /** The configured list the keyword came from ("default", "es", ...). */
  language: string;
  keyword: string;
}

export type OptDecision = { kind: 'opt_out'; hit: KeywordHit } | { kind: 'opt_in'; hit: KeywordHit };

function canonical(text: string): string {
  return text.normalize('NFC').trim().toLowerCase();
}

function findExact(text: string, lists: Record<string, string[]>): KeywordHit | null {
  const wanted = canonical(text);
  if (wanted === '') return null;
  for (const [language, words] of Object.entries(lists)) {
    for (const keyword of words) {
      if (canonical(keyword) === wanted) return { language, keyword };
    }
  }
  return null;
}

/** The opt-out keyword the message is, or null. */
export function matchOptOut(text: string | null | undefined, config: Config['opt_out']): KeywordHit | null {
  return text == null ? null : findExact(text, config.keywords);
}

/** The opt-in keyword (START) the message is, or null. */
export function matchOptIn(text: string | null | undefined, config: Config['opt_out']): KeywordHit | null {
  return text == null ? null : findExact(text, config.opt_in_keywords);
}

/** Opt-out wins when an operator listed the same word in both lists: stopping must always work. */
export function decideOpt(text: string | null | undefined, config: Config['opt_out']): OptDecision | null {
  const out = matchOptOut(text, config);
  if (out) return { kind: 'opt_out', hit: out };
  const inHit = matchOptIn(text, config);
  if (inHit) return { kind: 'opt_in', hit: inHit };
  return null;
}
