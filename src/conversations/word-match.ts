// Whole-word, accent- and case-insensitive matching shared by classification, escalation keywords,
// the scorer and the rules responder. Words, not substrings: "persona" must not match "person".

/** Longest text the engine looks at; keeps regex and lexicon work bounded whatever a customer sends. */
export const MAX_MATCHED_CHARS = 4096;

/** Lower-case, accents stripped (é → e, ü → u, ç → c), ß → ss, curly apostrophes straightened. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[’‘`´]/g, "'");
}

/** Stands for a run of clause punctuation, so phrases and negations do not reach across a clause. */
export const BOUNDARY = '|';

const TOKEN = /[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*|[.,;:!?¡¿]+/gu;

/** The words of a text, normalized, from at most MAX_MATCHED_CHARS characters; punctuation → BOUNDARY. */
export function tokenize(text: string): string[] {
  const raw = normalizeText(text.slice(0, MAX_MATCHED_CHARS)).match(TOKEN) ?? [];
  return raw.map((t) => (/^[.,;:!?¡¿]/.test(t) ? BOUNDARY : t));
}

export interface PhraseHit<T> {
  phrase: string;
  value: T;
  /** Index of the first matched word. */
  index: number;
  /** Number of words matched. */
  length: number;
}

interface Entry<T> {
  phrase: string;
  words: string[];
  value: T;
}

/**
 * A set of phrases (one or more words each) compiled once, matched against a token list. A phrase
 * with no word characters at all (an emoji, "!!!") falls back to a normalized substring match.
 */
export class PhraseMatcher<T> {
  private readonly byFirstWord = new Map<string, Entry<T>[]>();
  private readonly symbolic: Entry<T>[] = [];

  constructor(phrases: Iterable<{ phrase: string; value: T }>) {
    for (const { phrase, value } of phrases) {
      const words = tokenize(phrase).filter((w) => w !== BOUNDARY);
      const first = words[0];
      if (first === undefined) {
        const symbol = normalizeText(phrase).trim();
        if (symbol !== '') this.symbolic.push({ phrase, words: [symbol], value });
        continue;
      }
      const list = this.byFirstWord.get(first) ?? [];
      list.push({ phrase, words, value });
      // Longest phrase first, so "no funciona" wins over "no" at the same position.
      list.sort((a, b) => b.words.length - a.words.length);
      this.byFirstWord.set(first, list);
    }
  }

  /** The longest phrase starting at word `index`, if any. */
  matchAt(tokens: readonly string[], index: number): PhraseHit<T> | undefined {
    const first = tokens[index];
    if (first === undefined) return undefined;
    for (const entry of this.byFirstWord.get(first) ?? []) {
      if (entry.words.every((w, k) => tokens[index + k] === w)) {
        return { phrase: entry.phrase, value: entry.value, index, length: entry.words.length };
      }
    }
    return undefined;
  }

  /** Every non-overlapping hit, left to right, preferring the longest phrase at each position. */
  findAll(tokens: readonly string[], rawText = ''): PhraseHit<T>[] {
    const hits: PhraseHit<T>[] = [];
    for (let i = 0; i < tokens.length; ) {
      const hit = this.matchAt(tokens, i);
      if (hit) {
        hits.push(hit);
        i += hit.length;
      } else {
        i += 1;
      }
    }
    if (this.symbolic.length > 0) {
      const text = normalizeText(rawText.slice(0, MAX_MATCHED_CHARS));
      for (const entry of this.symbolic) {
        const at = text.indexOf(entry.words[0] as string);
        if (at >= 0) hits.push({ phrase: entry.phrase, value: entry.value, index: -1, length: 0 });
      }
    }
    return hits;
  }

  /** The first hit, or undefined. */
  first(tokens: readonly string[], rawText = ''): PhraseHit<T> | undefined {
    return this.findAll(tokens, rawText)[0];
  }

  get size(): number {
    let n = this.symbolic.length;
    for (const list of this.byFirstWord.values()) n += list.length;
    return n;
  }
}
