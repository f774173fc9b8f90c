// Fuzzing X-Hub-Signature-256: whatever the body and header, the check never throws, and only the
// exact HMAC-SHA256 of the raw bytes (hex in either case) passes.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSignature, signBody } from '../../src/webhook/signature.js';
import { createTestApp, TEST_APP_SECRET, type TestApp } from '../helpers/test-app.js';
import { post } from '../webhook/deliveries.js';
import { fuzzParams, fuzzTimeout } from './fuzz-runs.js';

const body = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ unit: 'grapheme', maxLength: 512 }).map((s) => new TextEncoder().encode(s)),
  fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
);

const hexDigits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });

/** Header values: noise, near misses of the format, and well-formed digests of other things. */
const header = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
  hexDigits(0, 80).map((h) => `sha256=${h}`),
  fc
    .tuple(fc.constantFrom('sha256=', 'SHA256=', 'sha1=', 'sha256:', 'sha256 =', ''), hexDigits(64, 64))
    .map(([p, h]) => p + h),
  fc
    .tuple(fc.string({ maxLength: 4 }), hexDigits(64, 64), fc.string({ maxLength: 4 }))
    .map(([a, h, b]) => `${a}sha256=${h}${b}`),
);

function expectedHex(bytes: Uint8Array): string {
  return createHmac('sha256', TEST_APP_SECRET).update(bytes).digest('hex');
}

describe('fuzz: webhook signature check', () => {
  it(
    'never throws, and a random header passes only when it is the exact digest',
    () => {
      fc.assert(
        fc.property(body, header, (bytes, h) => {
          const result = checkSignature(bytes, h, TEST_APP_SECRET);
          expect(['valid', 'missing', 'malformed', 'mismatch']).toContain(result);
          const exact =
            h.trim().toLowerCase() === `sha256=${expectedHex(bytes)}` && h.trim().startsWith('sha256=');
          expect(result === 'valid').toBe(exact);
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(1),
  );

  it(
    'the right digest passes, and any change to one body byte or one digest digit fails',
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 2048 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          fc.nat(63),
          (bytes, at, flip, digit) => {
            const sig = signBody(bytes, TEST_APP_SECRET);
            expect(checkSignature(bytes, sig, TEST_APP_SECRET)).toBe('valid');
            expect(
              checkSignature(bytes, ` ${sig.toUpperCase().replace('SHA256=', 'sha256=')}\t`, TEST_APP_SECRET),
            ).toBe('valid');

            const changed = Uint8Array.from(bytes);
            const i = at % changed.length;
            changed[i] = (changed[i] as number) ^ flip;
            expect(checkSignature(changed, sig, TEST_APP_SECRET)).toBe('mismatch');

            const hex = sig.slice('sha256='.length);
            const old = hex[digit] as string;
            const other = ((Number.parseInt(old, 16) + 1) % 16).toString(16);
            const bad = `sha256=${hex.slice(0, digit)}${other}${hex.slice(digit + 1)}`;
            expect(checkSignature(bytes, bad, TEST_APP_SECRET)).toBe('mismatch');

            // Never a prefix or extension match.
            expect(checkSignature(bytes, sig.slice(0, 7 + digit), TEST_APP_SECRET)).not.toBe('valid');
            expect(checkSignature(bytes, `${sig}0`, TEST_APP_SECRET)).toBe('malformed');
            // Another secret's digest is well-formed but wrong.
            expect(checkSignature(bytes, signBody(bytes, `${TEST_APP_SECRET}x`), TEST_APP_SECRET)).toBe(
              'mismatch',
            );
          },
        ),
        fuzzParams(),
      );
    },
    fuzzTimeout(1),
  );

  describe('through the HTTP app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it(
      'an unsigned or mis-signed POST gets 401 and stores nothing, whatever its bytes',
      async () => {
        await fc.assert(
          fc.asyncProperty(body, fc.option(header, { nil: null }), async (bytes, h) => {
            fc.pre(h === null || checkSignature(bytes, h, TEST_APP_SECRET) !== 'valid');
            // Header values must be ByteStrings on the wire; anything else cannot reach the daemon.
            fc.pre(h === null || /^[\t\x20-\x7e]*$/.test(h));
            const res = await post(t, { body: Buffer.from(bytes), signature: h });
            expect(res.status).toBe(401);
            const envelope = (await res.json()) as { error: { code: string; message: string } };
            expect(envelope.error.code).toBe('invalid_signature');
            expect(envelope.error.message).not.toContain(TEST_APP_SECRET);
          }),
          fuzzParams(0.5),
        );
        const stored = await t.deps.db.selectFrom('inbox').select('id').execute();
        expect(stored).toHaveLength(0);
        expect((await t.request('/healthz', { token: null })).status).toBe(200);
      },
      fuzzTimeout(3, 0.5),
    );
  });
});
