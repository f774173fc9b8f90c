import { describe, expect, it } from 'vitest';
import { checkJsonLimits } from '../../src/lib/json-limits.js';

const limits = { maxDepth: 4, maxArrayLength: 3 };

describe('JSON limits counted before parsing', () => {
  it.each([
    '{}',
    '[]',
    '[1,2,3]',
    '{"a":[{"b":[1,2]},[],"x"]}',
    '{"a":"[[[[[[[[","b":"\\"]]]]"}',
    '[[[1]]]',
    '  [ "a" , "b" , "c" ]  ',
    'not json at all',
  ])('%s is within the limits', (text) => {
    expect(checkJsonLimits(text, limits)).toBeNull();
  });

  it.each([
    ['[1,2,3,4]', { kind: 'array_length', path: '', limit: 3 }],
    ['{"recipients":[{},{},{},{}]}', { kind: 'array_length', path: 'recipients', limit: 3 }],
    ['{"a":{"list":["x","y","z",""]}}', { kind: 'array_length', path: 'a.list', limit: 3 }],
    ['[[[[[1]]]]]', { kind: 'depth', path: '0.0.0.0', limit: 4 }],
    ['{"a":{"b":{"c":{"d":{}}}}}', { kind: 'depth', path: 'a.b.c.d', limit: 4 }],
  ])('%s breaks a limit', (text, problem) => {
    expect(checkJsonLimits(text, limits)).toEqual(problem);
  });

  it('stops at the first element past the limit without reading the rest', () => {
    const text = `{"recipients":[${'{},'.repeat(2_000_000)}{}]}`;
    expect(checkJsonLimits(text, { maxDepth: 64, maxArrayLength: 100_000 })).toEqual({
      kind: 'array_length',
      path: 'recipients',
      limit: 100_000,
    });
  });
});
