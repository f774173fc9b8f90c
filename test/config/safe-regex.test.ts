import { describe, expect, it } from 'vitest';
import { isSafePattern } from '../../src/config/safe-regex.js';

describe('safe regular expressions', () => {
  it.each(['refund', 'order\\s+#?\\d+', '^(hi|hello|hey)\\b', '[a-z]+@[a-z]+\\.com', '(ab)?c+', 'a{2,5}b'])(
    '%s is accepted',
    (p) => expect(isSafePattern(p)).toBe(true),
  );

  it.each(['(a+)+$', '(\\w*x)*', '(a|a)*b', '((ab)*)+', '(.*a){10}', '([a-z]+\\s?)+$'])(
    '%s is refused as a backtracking risk',
    (p) => expect(isSafePattern(p)).toBe(false),
  );
});
