// X-Hub-Signature-256 verification: HMAC-SHA256 of the raw request bytes with the app secret,
// compared in constant time. Meta signs its escaped JSON (\u00e9, \/), so hashing anything but the
// exact bytes received (e.g. re-serialised JSON) would refuse every non-ASCII or URL-bearing body.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

// Exactly 64 hex digits: a truncated digest must never match by prefix.
const HEADER = /^sha256=([0-9a-fA-F]{64})$/;

/** The 32 digest bytes of a well-formed header value, else undefined. */
export function parseSignatureHeader(header: string | undefined): Buffer | undefined {
  if (header === undefined) return undefined;
  const m = HEADER.exec(header.trim());
  return m ? Buffer.from(m[1] as string, 'hex') : undefined;
}

export function signBody(body: Uint8Array | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function checkSignature(body: Uint8Array, header: string | undefined, secret: string): SignatureCheck {
  if (header === undefined || header.trim() === '') return 'missing';
  const given = parseSignatureHeader(header);
  if (!given) return 'malformed';
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(given, expected) ? 'valid' : 'mismatch';
}
