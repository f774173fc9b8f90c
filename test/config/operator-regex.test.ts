import { describe, expect, it } from 'vitest';
import {
  checkOperatorPattern,
  compileOperatorPattern,
  MAX_PATTERN_PROGRAM,
} from '../../src/config/operator-regex.js';
import { configSchema } from '../../src/config/schema.js';
import { classify } from '../../src/conversations/classify.js';
import { engineConfig } from '../conversations/engine-config.js';

// Patterns a backtracking engine takes minutes (or forever) on with the texts below. With the
// linear-time engine each test finishes well inside vitest's timeout; with `new RegExp` it never does.
const HOSTILE = [
  '.*.*.*.*=',
  '.*order.*status.*',
  '(a+)+$',
  '(a|a)*b',
  '(x+x+)+y',
  '(\\w*)*@',
  '^(a?){15}a{15}$',
];

describe('operator patterns (RE2, linear time)', () => {
  it.each(['refund', 'order\\s+#?\\d+', '^(hi|hello|hey)\\b', '(ab)?c+', 'a{2,5}b', ...HOSTILE])(
    '%s is accepted',
    (p) => expect(checkOperatorPattern(p).problem).toBeNull(),
  );

  it.each([
    ['(unclosed', /missing closing \)/],
    ['order(?=\\d)', /unsupported Perl syntax/],
    ['(a)\\1', /invalid escape/],
    ['a{1001}', /invalid repeat count/],
    ['.{0,1000}.{0,1000}x', /too large for the linear-time engine/],
  ])('%s is refused: %s', (p, why) => {
    expect(checkOperatorPattern(p).problem).toMatch(why);
  });

  it('matches case-insensitively, Unicode included', () => {
    expect(compileOperatorPattern('ÉTÉ').test('un été chaud')).toBe(true);
    expect(compileOperatorPattern('\\border\\s*#?\\d{4,}').test('Where is ORDER #123456?')).toBe(true);
  });

  it.each(HOSTILE)('classifies a long first message against %s without backtracking', (p) => {
    const cfg = engineConfig({ conversation_classes: [{ name: 'hostile', match: { patterns: [p] } }] });
    for (const text of ['a'.repeat(100_000), 'x'.repeat(4096), `${'order '.repeat(700)}!`]) {
      expect(classify({ text, message_type: 'text' }, cfg).class).toBeTypeOf('string');
    }
  });

  it('refuses a document whose patterns together exceed the per-message budget', () => {
    const big = `a.{${MAX_PATTERN_PROGRAM - 10}}b`;
    expect(checkOperatorPattern(big).problem).toBeNull();
    const classes = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, match: { patterns: [big] } }));
    const r = configSchema.safeParse({ conversation_classes: classes });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['conversation_classes']);
    expect(r.error?.issues[0]?.message).toMatch(/at most 1000/);
  });
});
