import { describe, expect, it } from 'vitest';
import { type ClassifyInput, classify, DEFAULT_CLASS } from '../../src/conversations/classify.js';
import { engineConfig } from './engine-config.js';

const classes = [
  {
    name: 'refunds',
    match: { keywords: ['refund', 'reembolso', 'Rückerstattung', 'money back'] },
    priority: 'high',
  },
  {
    name: 'orders',
    match: { patterns: ['\\border\\s*#?\\d{4,}'] },
    route: 'ai',
    follow_up_rule: 'order-nudge',
  },
  { name: 'voice', match: { message_types: ['audio'] }, route: 'human' },
  { name: 'ad-images', match: { message_types: ['image'], referral_source: ['ad'] }, priority: 'low' },
  { name: 'ads', match: { referral_source: ['ad', '120219834562170045'] } },
  { name: 'empty', match: {} },
];

function input(
  text: string | null,
  message_type = 'text',
  referral?: ClassifyInput['referral'],
): ClassifyInput {
  return { text, message_type, referral: referral ?? null };
}

describe('classify', () => {
  const config = engineConfig({ conversation_classes: classes, runtime: { automation_mode: 'assisted' } });

  it.each([
    ['keyword, English', input('I want a refund please'), 'refunds', 'keyword'],
    ['keyword, Spanish, upper case', input('QUIERO UN REEMBOLSO'), 'refunds', 'keyword'],
    ['keyword, German without umlaut', input('Ich will eine Ruckerstattung'), 'refunds', 'keyword'],
    ['keyword phrase', input('can I get my money back?'), 'refunds', 'keyword'],
    ['keyword is a whole word, not a prefix', input('refunding is slow'), DEFAULT_CLASS, 'default'],
    ['pattern', input('Where is ORDER #123456?'), 'orders', 'pattern'],
    ['pattern needs its digits', input('order 12'), DEFAULT_CLASS, 'default'],
    ['message type', input(null, 'audio'), 'voice', 'message_type'],
    [
      'all criteria kinds must hold',
      input('pic', 'image', { source_type: 'ad' }),
      'ad-images',
      'message_type',
    ],
    [
      'referral by source id',
      input('hi', 'text', { source_type: 'post', source_id: '120219834562170045' }),
      'ads',
      'referral_source',
    ],
    [
      'referral by source type',
      input('Quero saber mais sobre essa promoção!', 'text', { source_type: 'ad' }),
      'ads',
      'referral_source',
    ],
    ['an image without referral is no ad image', input('pic', 'image'), DEFAULT_CLASS, 'default'],
    ['a class without criteria never matches', input('anything at all'), DEFAULT_CLASS, 'default'],
  ])('%s', (_label, msg, expectedClass, by) => {
    const c = classify(msg, config);
    expect(c.class).toBe(expectedClass);
    expect(c.matched[0]?.by).toBe(by);
  });

  it('takes the first matching class in config order', () => {
    const c = classify(input('refund for order #99999'), config);
    expect(c.class).toBe('refunds');
    const swapped = engineConfig({ conversation_classes: [classes[1], classes[0]] });
    expect(classify(input('refund for order #99999'), swapped).class).toBe('orders');
  });

  it('carries the class route, priority and follow-up rule', () => {
    expect(classify(input('order #12345'), config)).toMatchObject({
      class: 'orders',
      route: 'ai',
      priority: 'normal',
      follow_up_rule: 'order-nudge',
    });
    expect(classify(input(null, 'audio'), config).route).toBe('human');
  });

  it('falls back to class general with the automation mode route', () => {
    expect(classify(input('hello'), engineConfig())).toEqual({
      class: 'general',
      route: 'hybrid',
      priority: 'normal',
      follow_up_rule: null,
      matched: [{ by: 'default', value: 'general' }],
    });
    expect(classify(input('hello'), engineConfig({ runtime: { automation_mode: 'autonomous' } })).route).toBe(
      'ai',
    );
    expect(classify(input('hello'), engineConfig({ runtime: { automation_mode: 'priority' } })).route).toBe(
      'ai',
    );
  });

  it.each([
    ['assisted', 'hybrid'],
    ['autonomous', 'ai'],
    ['priority', 'human'],
  ])('routes a high-priority class without its own route in %s mode to %s', (mode, route) => {
    const cfg = engineConfig({ conversation_classes: classes, runtime: { automation_mode: mode } });
    expect(classify(input('refund'), cfg).route).toBe(route);
  });

  it('matches patterns only within the first 4096 characters', () => {
    const cfg = engineConfig({ conversation_classes: [{ name: 'tail', match: { patterns: ['needle'] } }] });
    expect(classify(input(`${'x'.repeat(4000)} needle`), cfg).class).toBe('tail');
    expect(classify(input(`${'x'.repeat(4096)} needle`), cfg).class).toBe(DEFAULT_CLASS);
  });

  // What keeps a hostile text cheap is that cap: a pattern never sees past character 4096. Its cost
  // is measured in bench/regex (worst pattern × text against a keyword class), not timed here.
  it('runs hostile patterns on the capped text only', () => {
    const cfg = engineConfig({
      conversation_classes: [{ name: 'p', match: { patterns: ['(a|b)c', '^\\w+@\\w+$', 'x.*y.*z'] } }],
    });
    expect(classify(input(`${'a'.repeat(100_000)}c`), cfg).class).toBe(DEFAULT_CLASS);
    expect(classify(input(`${'a'.repeat(4000)}c`), cfg).class).toBe('p');
  });
});

describe('match.mode', () => {
  const orders = (mode?: 'all' | 'any') => ({
    name: 'orders',
    match: { keywords: ['order'], patterns: ['\\b\\d{6,10}\\b'], ...(mode ? { mode } : {}) },
  });
  const cfg = (mode?: 'all' | 'any') => engineConfig({ conversation_classes: [orders(mode)] });

  it.each([
    ['any: a keyword alone', 'any', 'I have a question about my order', 'orders'],
    ['any: a number alone', 'any', 'where is 48213377?', 'orders'],
    ['any: both', 'any', 'order 48213377 please', 'orders'],
    ['any: neither', 'any', 'hello there', DEFAULT_CLASS],
    ['all: a keyword alone is not enough', 'all', 'I have a question about my order', DEFAULT_CLASS],
    ['all: both', 'all', 'order 48213377 please', 'orders'],
    ['default is all (existing configs keep their meaning)', undefined, 'my order', DEFAULT_CLASS],
  ] as const)('%s', (_label, mode, text, expected) => {
    expect(classify(input(text), cfg(mode)).class).toBe(expected);
  });

  it('any lists every criterion that matched', () => {
    expect(classify(input('order 48213377'), cfg('any')).matched).toEqual([
      { by: 'keyword', value: 'order' },
      { by: 'pattern', value: '\\b\\d{6,10}\\b' },
    ]);
  });

  it('any over message types and referrals: an ad referral or an order message', () => {
    const c = engineConfig({
      conversation_classes: [
        { name: 'lead', match: { referral_source: ['ad'], message_types: ['order'], mode: 'any' } },
      ],
    });
    expect(classify(input('hi', 'text', { source_type: 'ad' }), c).class).toBe('lead');
    expect(classify(input(null, 'order'), c).class).toBe('lead');
    expect(classify(input('hi'), c).class).toBe(DEFAULT_CLASS);
  });

  it('refuses another mode at load, naming the path', async () => {
    const { resolveConfig } = await import('../../src/config/load.js');
    expect(() =>
      resolveConfig([
        { name: 'test', document: { conversation_classes: [{ name: 'x', match: { mode: 'some' } }] } },
      ]),
    ).toThrow(/conversation_classes\.0\.match\.mode/);
  });
});
