// Standard Webhooks signing (standardwebhooks.com): secrets are `whsec_` + base64 of random bytes;
// a delivery carries `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`, a space-
// separated list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per valid secret (the old
// one too during the 24 h after a rotation), so a subscriber can switch secrets without a gap.
import { createHmac } from 'node:crypto';
import type { RandomSource } from '../lib/ids.js';

const PREFIX = 'whsec_';

export function newSecret(random: RandomSource): string {
  return PREFIX + Buffer.from(random(24)).toString('base64');
}

function key(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' '),
  };
}
