import { describe, expect, it } from 'vitest';
import { LEXICONS, lexiconsFor } from '../../src/conversations/lexicon.js';
import { scoreConversation, scoreText } from '../../src/conversations/scorer.js';
import { COMPLAINTS, FIXTURE_TEXTS, fullConfig, NEUTRALS } from './engine-config.js';

const threshold = fullConfig().escalation.sentiment_threshold as number;

describe('lexicons', () => {
  it('ship English, Spanish, Portuguese and German as data files', () => {
    expect([...LEXICONS.keys()].sort()).toEqual(['de', 'en', 'es', 'pt']);
  });

  it('skip configured languages that have no lexicon', () => {
    expect(lexiconsFor(['fr', 'de', 'DE']).map((l) => l.language)).toEqual(['de']);
  });
});

describe('scoreText on the language fixtures', () => {
  it.each(COMPLAINTS)('a %s complaint scores below the default escalation threshold', (language, text) => {
    const s = scoreText(text);
    expect(s.language).toBe(language);
    expect(s.sentiment).toBeLessThan(threshold);
    expect(s.intents).toEqual(expect.arrayContaining(['human_request', 'complaint']));
    expect(s.intent).toBe('human_request');
  });

  it.each(NEUTRALS)('a neutral %s question is not negative and reads as a question', (language, text) => {
    const s = scoreText(text);
    expect(s.language).toBe(language);
    expect(s.sentiment).toBeGreaterThanOrEqual(0);
    expect(s.intent).toBe('question');
  });

  it('explains itself with the matched words', () => {
    const s = scoreText(FIXTURE_TEXTS.lang_de_complaint_human);
    expect(s.reasons).toEqual(
      expect.arrayContaining([
        { kind: 'sentiment', term: 'ärgerlich', weight: -3.75, negated: false, intensifier: 'wirklich' },
        { kind: 'sentiment', term: 'überfällig', weight: -2, negated: false, intensifier: null },
        { kind: 'intent', intent: 'human_request', term: 'mitarbeiter' },
      ]),
    );
  });

  it('is deterministic', () => {
    for (const [, text] of [...COMPLAINTS, ...NEUTRALS]) expect(scoreText(text)).toEqual(scoreText(text));
  });
});

describe('scoreText rules', () => {
  it.each([
    ['case and accents do not matter', 'PÉSSIMO ATENDIMENTO', 'pessimo atendimento'],
    ['German umlauts may be left out', 'wirklich ärgerlich', 'wirklich argerlich'],
    ['Spanish accents may be left out', 'es una vergüenza', 'es una verguenza'],
  ])('%s', (_label, a, b) => {
    expect(scoreText(a).sentiment).toBe(scoreText(b).sentiment);
    expect(scoreText(a).sentiment).toBeLessThan(0);
  });

  it.each([
    ['en', 'The service was good', 'The service was not good'],
    ['es', 'El servicio es bueno', 'El servicio no es bueno'],
    ['pt', 'O atendimento foi bom', 'O atendimento não foi bom'],
    ['de', 'Der Service ist gut', 'Der Service ist nicht gut'],
  ])('a negation flips a positive word (%s)', (_lang, plain, negated) => {
    expect(scoreText(plain).sentiment).toBeGreaterThan(0);
    expect(scoreText(negated).sentiment).toBeLessThan(0);
  });

  it('a negated negative only softens ("not bad" is mildly positive)', () => {
    const s = scoreText('not bad at all');
    expect(s.sentiment).toBeGreaterThan(0);
    expect(s.sentiment).toBeLessThan(scoreText('good').sentiment);
  });

  it('a negation does not reach across a clause', () => {
    expect(scoreText('No, thanks').sentiment).toBeGreaterThan(0);
  });

  it('intensifiers and exclamation marks strengthen', () => {
    const plain = scoreText('this is bad').sentiment;
    const intense = scoreText('this is very bad').sentiment;
    const shouted = scoreText('this is very bad!!!').sentiment;
    expect(intense).toBeLessThan(plain);
    expect(shouted).toBeLessThan(intense);
  });

  it('uses only the detected language, so false friends stay apart', () => {
    // "Gift" is poison in German, a present in English; neither lexicon lists it, but "fast" is
    // positive in English and means "almost" in German.
    expect(scoreText('Die Lieferung ist fast da, danke').language).toBe('de');
    const de = scoreText('Die Lieferung ist fast da');
    expect(de.reasons.some((r) => r.kind === 'sentiment' && r.term === 'fast')).toBe(false);
    expect(scoreText('fast delivery, thanks').sentiment).toBeGreaterThan(0);
  });

  it.each([
    ['I want a refund', 'refund'],
    ['Quero meu dinheiro de volta', 'refund'],
    ['How much does the blue one cost?', 'purchase'],
    ['Quanto custa o frete?', 'purchase'],
    ['Hello there', 'greeting'],
    ['Guten Morgen', 'greeting'],
    ['can I talk to a human', 'human_request'],
    ['Das Paket ist kaputt angekommen', 'complaint'],
    ['this is awful', 'complaint'],
    ['ok', 'other'],
  ])('%s → intent %s', (text, intent) => {
    expect(scoreText(text).intent).toBe(intent);
  });

  it('gives an empty or unknown text a neutral score', () => {
    expect(scoreText('')).toEqual({
      language: null,
      intent: 'other',
      intents: [],
      sentiment: 0,
      reasons: [],
    });
    expect(scoreText('🙂🙂').sentiment).toBe(0);
  });

  it('stays within [-1, 1] on extreme text', () => {
    expect(scoreText('terrible awful horrible worst scam '.repeat(200)).sentiment).toBeGreaterThanOrEqual(-1);
    expect(scoreText('great amazing perfect '.repeat(200)).sentiment).toBeLessThanOrEqual(1);
  });

  it('only scores with the configured languages', () => {
    expect(scoreText(FIXTURE_TEXTS.lang_de_complaint_human, ['en']).language).not.toBe('de');
  });
});

describe('scoreConversation', () => {
  it('scores the customer messages together without joining phrases across messages', () => {
    const s = scoreConversation(['my order is late', 'this is terrible']);
    expect(s.sentiment).toBeLessThan(scoreText('this is terrible').sentiment);
    expect(scoreConversation(['I want to talk', 'to someone']).intents).not.toContain('human_request');
  });

  it('keeps the newest messages when the history is long', () => {
    const old = 'great '.repeat(1000);
    const s = scoreConversation([old, old, 'terrible']);
    expect(s.reasons.some((r) => r.kind === 'sentiment' && r.term === 'terrible')).toBe(true);
  });
});
