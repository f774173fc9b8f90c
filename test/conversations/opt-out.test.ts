import { describe, expect, it } from 'vitest';
import { decideOpt, matchOptIn, matchOptOut } from '../../src/conversations/opt-out.js';
import { fullConfig } from './engine-config.js';

const defaults = fullConfig().opt_out;

describe('opt-out keywords (defaults STOP, UNSUBSCRIBE)', () => {
  it.each([
    ['STOP', true],
    ['stop', true],
    [' STOP ', true],
    ['  stop ', true], // optout_text_stop_padded.json
    ['\tStop\n', true],
    ['unsubscribe', true],
    ['Stop.', false],
    ['stop!', false],
    ['please stop', false],
    ['STOP STOP', false],
    ['stopp', false],
    ['', false],
    ['   ', false],
  ])('%j → opt-out %s', (text, expected) => {
    expect(matchOptOut(text, defaults) !== null).toBe(expected);
  });

  it('treats a null text (media without caption) as no keyword', () => {
    expect(matchOptOut(null, defaults)).toBeNull();
    expect(decideOpt(undefined, defaults)).toBeNull();
  });

  it('accepts "Stop." once an operator lists it', () => {
    const cfg = fullConfig({ opt_out: { keywords: { default: ['STOP', 'Stop.'] } } }).opt_out;
    expect(matchOptOut('stop.', cfg)).toEqual({ language: 'default', keyword: 'Stop.' });
  });

  it('matches per-language lists and reports which list', () => {
    const cfg = fullConfig({
      opt_out: { keywords: { default: ['STOP'], pt: ['PARAR', 'SAIR'], es: ['BAJA'] } },
    }).opt_out;
    expect(matchOptOut(' sair', cfg)).toEqual({ language: 'pt', keyword: 'SAIR' });
    expect(matchOptOut('Baja', cfg)).toEqual({ language: 'es', keyword: 'BAJA' });
    expect(matchOptOut('STOP', cfg)?.language).toBe('default');
  });
});

describe('opt-in keywords', () => {
  it.each([
    ['START', true],
    [' start ', true],
    ['Start!', false],
    ['start please', false],
  ])('%j → opt-in %s', (text, expected) => {
    expect(matchOptIn(text, defaults) !== null).toBe(expected);
  });

  it('lets opt-out win when a word is in both lists', () => {
    const cfg = fullConfig({
      opt_out: { keywords: { default: ['STOP'] }, opt_in_keywords: { default: ['START', 'stop'] } },
    }).opt_out;
    expect(decideOpt('stop', cfg)?.kind).toBe('opt_out');
    expect(decideOpt('start', cfg)?.kind).toBe('opt_in');
    expect(decideOpt('hello', cfg)).toBeNull();
  });
});
