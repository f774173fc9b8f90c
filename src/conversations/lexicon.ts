// Loads the scorer's word lists (lexicons/*.json, data rather than code, so a translator can edit them)
// and compiles each into matchers once. Importing the JSON makes tsc copy it into dist/.
import { z } from 'zod';
import de from './lexicons/de.json' with { type: 'json' };
import en from './lexicons/en.json' with { type: 'json' };
import es from './lexicons/es.json' with { type: 'json' };
import pt from './lexicons/pt.json' with { type: 'json' };
import { normalizeText, PhraseMatcher } from './word-match.js';

export const INTENTS = ['human_request', 'refund', 'complaint', 'purchase', 'question', 'greeting'] as const;
/** In this order an intent outranks the ones after it when a text shows several. */
export type Intent = (typeof INTENTS)[number];

const weights = z.record(z.string().min(1), z.number().positive().max(5));

export const lexiconFileSchema = z.strictObject({
  language: z.string().min(2).max(15),
  /** Common function words; they only help tell the language of a text. */
  markers: z.array(z.string().min(1)),
  negations: z.array(z.string().min(1)),
  /** Word → factor applied to the sentiment word right after it (below 1 softens). */
  intensifiers: weights,
  /** Set phrases whose words must not count as sentiment ("good morning", "bom dia"). */
  neutral_phrases: z.array(z.string().min(1)),
  positive: weights,
  /** Magnitudes; the loader makes them negative. */
  negative: weights,
  intents: z.strictObject(
    Object.fromEntries(INTENTS.map((i) => [i, z.array(z.string().min(1))])) as Record<
      Intent,
      z.ZodArray<z.ZodString>
    >,
  ),
});

export type LexiconFile = z.infer<typeof lexiconFileSchema>;

export type SentimentEntry = { kind: 'sentiment'; weight: number } | { kind: 'neutral' };

export interface Lexicon {
  language: string;
  markers: Set<string>;
  negations: Set<string>;
  intensifiers: Map<string, number>;
  sentiment: PhraseMatcher<SentimentEntry>;
  intents: PhraseMatcher<Intent>;
}

export function compileLexicon(file: LexiconFile): Lexicon {
  const sentiment: { phrase: string; value: SentimentEntry }[] = [
    ...file.neutral_phrases.map((phrase) => ({ phrase, value: { kind: 'neutral' } as const })),
    ...Object.entries(file.positive).map(([phrase, w]) => ({
      phrase,
      value: { kind: 'sentiment', weight: w } as const,
    })),
    ...Object.entries(file.negative).map(([phrase, w]) => ({
      phrase,
      value: { kind: 'sentiment', weight: -w } as const,
    })),
  ];
  const intents = INTENTS.flatMap((intent) =>
    file.intents[intent].map((phrase) => ({ phrase, value: intent })),
  );
  return {
    language: file.language,
    markers: new Set(file.markers.map(normalizeText)),
    negations: new Set(file.negations.map(normalizeText)),
    intensifiers: new Map(Object.entries(file.intensifiers).map(([w, f]) => [normalizeText(w), f])),
    sentiment: new PhraseMatcher(sentiment),
    intents: new PhraseMatcher(intents),
  };
}

const FILES: unknown[] = [en, es, pt, de];

/** Every built-in lexicon by language code; a malformed data file fails at start-up, not mid-message. */
export const LEXICONS: ReadonlyMap<string, Lexicon> = new Map(
  FILES.map((raw) => {
    const lex = compileLexicon(lexiconFileSchema.parse(raw));
    return [lex.language, lex] as const;
  }),
);

/** The lexicons for the configured languages, in config order; languages without one are skipped. */
export function lexiconsFor(languages: readonly string[]): Lexicon[] {
  const out: Lexicon[] = [];
  for (const lang of languages) {
    const lex = LEXICONS.get(lang.toLowerCase());
    if (lex && !out.includes(lex)) out.push(lex);
  }
  return out;
}
