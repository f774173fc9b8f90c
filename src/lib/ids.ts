// Sortable ids (ULID: 48-bit time + 80 bits of randomness, Crockford base32). Monotonic within one
// millisecond so that ids made in one burst keep their creation order, which cursors rely on.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Clock } from './clock.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type RandomSource = (bytes: number) => Uint8Array;

export const cryptoRandom: RandomSource = (n) => randomBytes(n);

/**
 * Cryptographic randomness for ids, drawn from a buffer filled 4 KiB at a time: a native call per id
 * cost about 1.5 % of the inbox processor's CPU (issue 20, bench/profile-processing.ts --profile). Not
 * for secrets (tokens, keys): those take cryptoRandom, so no future secret waits in a buffer.
 */
export function pooledRandom(size = 4096): RandomSource {
  let pool = new Uint8Array(0);
  let offset = 0;
  return (n) => {
    if (n > size) return randomBytes(n);
    if (offset + n > pool.length) {
      pool = randomFillSync(new Uint8Array(size));
      offset = 0;
    }
    offset += n;
    return pool.slice(offset - n, offset);
  };
}

export interface IdSource {
  /** A new ULID, 26 characters, lexicographically ordered by creation. */
  next(): string;
}

export function createIdSource(clock: Clock, random: RandomSource = pooledRandom()): IdSource {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return {
    next() {
      const now = Math.max(clock.now(), lastTime);
      if (now === lastTime) {
        lastRandom = increment(lastRandom);
      } else {
        lastTime = now;
        lastRandom = Array.from(random(10));
      }
      return encodeTime(now) + encodeRandom(lastRandom);
    },
  };
}

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: number[]): string {
  // 80 bits → 16 base32 characters.
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

function increment(bytes: number[]): number[] {
  const out = bytes.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    const v = (out[i] ?? 0) + 1;
    if (v <= 255) {
      out[i] = v;
      return out;
    }
    out[i] = 0;
  }
  // 2^80 ids in one millisecond: wrapping is the lesser evil and will not happen in practice.
  return out;
}

/** A deterministic id source for tests: counter-based, still sortable. */
export function sequentialIds(clock: Clock): IdSource {
  let n = 0;
  return createIdSource(clock, (size) => {
    n += 1;
    const out = new Uint8Array(size);
    let v = n;
    for (let i = size - 1; i >= 0 && v > 0; i--) {
      out[i] = v & 0xff;
      v = Math.floor(v / 256);
    }
    return out;
  });
}
