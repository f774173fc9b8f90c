import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { createIdSource, pooledRandom, sequentialIds } from '../../src/lib/ids.js';

describe('ids', () => {
  it('are 26 Crockford base32 characters', () => {
    const id = createIdSource(new FakeClock()).next();
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('sort by creation time, also within one millisecond', () => {
    const clock = new FakeClock(1_767_600_000_000);
    const ids = createIdSource(clock);
    const made: string[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 100 === 0) clock.advance(1);
      made.push(ids.next());
    }
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
  });

  it('never go backwards when the clock does', () => {
    const clock = new FakeClock(1_767_600_000_000);
    const ids = createIdSource(clock);
    const a = ids.next();
    clock.advance(-5000);
    const b = ids.next();
    expect(b > a).toBe(true);
  });

  it('encode the clock time in the first ten characters', () => {
    const a = createIdSource(new FakeClock(0)).next();
    expect(a.slice(0, 10)).toBe('0000000000');
    const b = createIdSource(new FakeClock(1_767_600_000_000)).next();
    expect(b.slice(0, 10)).toBe('01KE6JQ300');
  });

  it('are reproducible from an injected random source', () => {
    const one = sequentialIds(new FakeClock(5));
    const two = sequentialIds(new FakeClock(5));
    expect([one.next(), one.next()]).toEqual([two.next(), two.next()]);
  });

  it('draw pooled randomness that never hands out the same bytes twice, across refills', () => {
    const random = pooledRandom(64);
    const draws = Array.from({ length: 200 }, () => Buffer.from(random(10)).toString('hex'));
    expect(draws.every((d) => d.length === 20)).toBe(true);
    expect(new Set(draws).size).toBe(draws.length);
    expect(random(100)).toHaveLength(100);
  });
});
