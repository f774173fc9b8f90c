import { describe, expect, it } from 'vitest';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { acceptedFixtureNames, fixture } from './deliveries.js';

describe('toMetaJson', () => {
  it.each(acceptedFixtureNames())('reproduces the bytes Meta sent for %s', (name) => {
    const raw = fixture(name).body.toString('utf8');
    expect(toMetaJson(JSON.parse(raw))).toBe(raw);
  });

  it('escapes non-ASCII as lowercase \\uXXXX (astral as surrogate pairs) and / as \\/', () => {
    expect(toMetaJson({ t: 'café 😂 a/b & <c>' })).toBe('{"t":"caf\\u00e9 \\ud83d\\ude02 a\\/b & <c>"}');
  });
});
