import { describe, expect, it } from 'vitest';
import { checkSignature, parseSignatureHeader, signBody } from '../../src/webhook/signature.js';
import { TEST_APP_SECRET } from '../helpers/test-app.js';
import { acceptedFixtureNames, fixture, invalidSignatureCases } from './deliveries.js';

describe('checkSignature', () => {
  it.each(acceptedFixtureNames())('accepts the header Meta sent for %s', (name) => {
    const f = fixture(name);
    expect(checkSignature(f.body, f.signature, TEST_APP_SECRET)).toBe('valid');
  });

  it.each(invalidSignatureCases())('refuses $reason', ({ name, signature }) => {
    expect(checkSignature(fixture(name).body, signature, TEST_APP_SECRET)).not.toBe('valid');
  });

  it('the re-serialised body does not verify with the real signature (why raw bytes matter)', () => {
    const f = fixture('msg_text_accents_url.json');
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(f.body.toString())));
    expect(reserialised.equals(f.body)).toBe(false);
    expect(checkSignature(reserialised, f.signature, TEST_APP_SECRET)).toBe('mismatch');
  });

  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['   ', 'missing'],
    ['sha256=', 'malformed'],
    [`sha256=${'a'.repeat(40)}`, 'malformed'],
    [`sha256=${'a'.repeat(63)}`, 'malformed'],
    [`sha256=${'a'.repeat(65)}`, 'malformed'],
    [`SHA256=${'a'.repeat(64)}`, 'malformed'],
    [`sha1=${'a'.repeat(64)}`, 'malformed'],
    [`sha256=${'z'.repeat(64)}`, 'malformed'],
    [`sha256=${'a'.repeat(64)}`, 'mismatch'],
  ])('%j → %s', (header, expected) => {
    expect(checkSignature(Buffer.from('{}'), header, TEST_APP_SECRET)).toBe(expected);
  });

  it('hex case does not matter; a flipped bit does', () => {
    const body = Buffer.from('{"a":1}');
    const sig = signBody(body, TEST_APP_SECRET);
    expect(checkSignature(body, sig.toUpperCase().replace('SHA256=', 'sha256='), TEST_APP_SECRET)).toBe(
      'valid',
    );
    const last = sig.at(-1) === '0' ? '1' : '0';
    expect(checkSignature(body, sig.slice(0, -1) + last, TEST_APP_SECRET)).toBe('mismatch');
  });

  it('parseSignatureHeader returns the 32 digest bytes', () => {
    expect(parseSignatureHeader(`sha256=${'ab'.repeat(32)}`)?.length).toBe(32);
    expect(parseSignatureHeader('nope')).toBeUndefined();
  });
});
