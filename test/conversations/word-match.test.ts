import { describe, expect, it } from 'vitest';
import {
  BOUNDARY,
  MAX_MATCHED_CHARS,
  normalizeText,
  PhraseMatcher,
  tokenize,
} from '../../src/conversations/word-match.js';

describe('normalizeText', () => {
  it.each([
    ['Reclamação', 'reclamacao'],
    ['ÄRGERLICH', 'argerlich'],
    ['Grüß', 'gruss'],
    ['VERGÜENZA', 'verguenza'],
    ['don’t', "don't"],
    ['ＳＴＯＰ', 'stop'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });
});

describe('tokenize', () => {
  it('splits words and turns clause punctuation into boundaries', () => {
    expect(tokenize('No, thanks! Great.')).toEqual(['no', BOUNDARY, 'thanks', BOUNDARY, 'great', BOUNDARY]);
  });

  it('keeps apostrophes inside words', () => {
    expect(tokenize("I don't know")).toEqual(['i', "don't", 'know']);
  });

  it('looks at no more than the first MAX_MATCHED_CHARS characters', () => {
    const text = `${'a '.repeat(MAX_MATCHED_CHARS / 2)}refund`;
    expect(tokenize(text)).not.toContain('refund');
  });
});

describe('PhraseMatcher', () => {
  const m = new PhraseMatcher([
    { phrase: 'person', value: 'en' },
    { phrase: 'persona', value: 'es' },
    { phrase: 'someone real', value: 'phrase' },
    { phrase: 'no funciona', value: 'long' },
    { phrase: 'no', value: 'short' },
    { phrase: '😡', value: 'emoji' },
  ]);

  it.each([
    ['Quiero hablar con una persona', ['es']],
    ['I want a PERSON now', ['en']],
    ['personal data', []],
    ['let me talk to someone real', ['phrase']],
    ['someone, real', []],
    ['esto no funciona', ['long']],
    ['no', ['short']],
    ['angry 😡', ['emoji']],
  ])('%s → %j', (text, values) => {
    expect(m.findAll(tokenize(text), text).map((h) => h.value)).toEqual(values);
  });
});
