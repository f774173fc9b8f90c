// The arithmetic behind insights: histogram buckets, nearest-rank percentiles (exact and from the
// histogram), hour edges, how a window splits into rollup periods, and the dashboard sentence.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addHistogramJson,
  addToHistogram,
  bucketCounts,
  bucketLowerSeconds,
  ceilHour,
  countsPercentileSeconds,
  floorHour,
  type Histogram,
  histogramPercentileSeconds,
  humanDuration,
  mergeHistograms,
  PERIOD_MS,
  percentileSeconds,
  responseBucket,
  summarySentence,
  windowPieces,
} from '../../src/insights/insight-math.js';

describe('response-time buckets', () => {
  it.each([
    [0, 0, 0],
    [999, 0, 0],
    [1000, 1, 1],
    [59_999, 59, 59],
    [60_000, 60, 60],
    [69_999, 60, 60],
    [70_000, 61, 70],
    [599_999, 113, 590],
    [600_000, 114, 600],
    [3_599_999, 163, 3540],
    [3_600_000, 164, 3600],
    [86_399_999, 255, 85_500],
    [86_400_000, 256, 86_400],
    [7 * 86_400_000 - 1, 399, 7 * 86_400 - 3600],
    [7 * 86_400_000, 400, 7 * 86_400],
    [90 * 86_400_000, 400, 7 * 86_400],
  ])('%i ms is bucket %i, reported as %i s', (ms, bucket, lower) => {
    expect(responseBucket(ms)).toBe(bucket);
    expect(bucketLowerSeconds(bucket)).toBe(lower);
  });
});

describe('percentiles (nearest rank)', () => {
  it.each([
    [[], 0.5, null],
    [[120_000], 0.5, 120],
    [[120_000, 300_000, 3_600_000], 0.5, 300],
    [[120_000, 300_000, 3_600_000], 0.9, 3600],
    [[1000, 2000, 3000, 4000], 0.5, 2],
    [[1000, 2000, 3000, 4000], 0.9, 4],
    [[1500, 2500], 0.5, 1.5],
  ])('of %j at %f is %s s', (values, p, expected) => {
    expect(percentileSeconds(values, p)).toBe(expected);
  });

  it('from a histogram they are the lower bound of the bucket holding the rank', () => {
    let h = {};
    for (const ms of [120_000, 300_000, 3_600_000]) h = addToHistogram(h, responseBucket(ms));
    expect(histogramPercentileSeconds(h, 0.5)).toBe(300);
    expect(histogramPercentileSeconds(h, 0.9)).toBe(3600);
    expect(histogramPercentileSeconds({}, 0.5)).toBeNull();
    // Under a minute the histogram is exact to the second.
    expect(histogramPercentileSeconds(addToHistogram({}, responseBucket(42_700), 3), 0.5)).toBe(42);
  });
});

describe('histograms merged as bucket counts (what a request reads)', () => {
  const bucket = fc.integer({ min: 0, max: responseBucket(Number.MAX_SAFE_INTEGER) });
  const histogram = fc.dictionary(bucket.map(String), fc.integer({ min: 0, max: 1_000_000 }));

  it('give the percentiles of the merged objects, from the stored JSON text', () => {
    fc.assert(
      fc.property(
        fc.array(histogram, { maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (hs, p) => {
          const merged: Histogram = {};
          const counts = bucketCounts();
          for (const h of hs) {
            mergeHistograms(merged, h);
            addHistogramJson(counts, JSON.stringify(h));
          }
          expect(countsPercentileSeconds(counts, p)).toBe(histogramPercentileSeconds(merged, p));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('read any JSON spelling, and refuse a key that is no bucket', () => {
    const counts = bucketCounts();
    addHistogramJson(counts, '{ "3": 2, "400" : 1 }');
    addHistogramJson(counts, '{"3":1}');
    addHistogramJson(counts, '{}');
    expect([counts[3], counts[400], counts.reduce((s, n) => s + n, 0)]).toEqual([3, 1, 4]);
    expect(countsPercentileSeconds(bucketCounts(), 0.5)).toBeNull();
    expect(() => addHistogramJson(bucketCounts(), '{"401":1}')).toThrow(/bucket/);
    expect(() => addHistogramJson(bucketCounts(), '{"1.5":1}')).toThrow(/bucket/);
  });
});

describe('window pieces', () => {
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 23);
  const show = (from: string, to: string) =>
    windowPieces(Date.parse(`${from}Z`), Date.parse(`${to}Z`)).map(
      (p) => `${p.period} ${iso(p.from)}..${iso(p.to)}`,
    );

  it.each([
    [
      'a 24h window at half past and 20.5 s: partial minutes raw, partial hours by minute, whole hours',
      '2026-02-28T00:30:20.500',
      '2026-03-01T00:30:20.501',
      [
        'raw 2026-02-28T00:30:20.500..2026-02-28T00:31:00.000',
        'm 2026-02-28T00:31:00.000..2026-02-28T01:00:00.000',
        'h 2026-02-28T01:00:00.000..2026-03-01T00:00:00.000',
        'm 2026-03-01T00:00:00.000..2026-03-01T00:30:00.000',
        'raw 2026-03-01T00:30:00.000..2026-03-01T00:30:20.501',
      ],
    ],
    [
      'whole days in the middle of a 3-day window',
      '2026-02-26T22:00:00.000',
      '2026-03-01T02:00:00.001',
      [
        'h 2026-02-26T22:00:00.000..2026-02-27T00:00:00.000',
        'd 2026-02-27T00:00:00.000..2026-03-01T00:00:00.000',
        'h 2026-03-01T00:00:00.000..2026-03-01T02:00:00.000',
        'raw 2026-03-01T02:00:00.000..2026-03-01T02:00:00.001',
      ],
    ],
    [
      'an hour that crosses an hour edge: minutes only',
      '2026-03-01T09:30:00.000',
      '2026-03-01T10:30:00.000',
      ['m 2026-03-01T09:30:00.000..2026-03-01T10:30:00.000'],
    ],
    [
      'under a minute: raw only',
      '2026-03-01T09:30:10.000',
      '2026-03-01T09:30:50.000',
      ['raw 2026-03-01T09:30:10.000..2026-03-01T09:30:50.000'],
    ],
    ['nothing', '2026-03-01T09:30:10.000', '2026-03-01T09:30:10.000', []],
  ])('%s', (_name, from, to, pieces) => {
    expect(show(from, to)).toEqual(pieces);
  });

  it('cover [from, to) exactly, in order, on period edges, with under a minute left raw at each end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 0, max: 31 * 86_400_000 }),
        (from, length) => {
          const pieces = windowPieces(from, from + length);
          let at = from;
          for (const p of pieces) {
            expect(p.from).toBe(at);
            expect(p.to).toBeGreaterThan(p.from);
            if (p.period === 'raw') expect(p.to - p.from).toBeLessThan(60_000);
            else {
              expect(p.from % PERIOD_MS[p.period]).toBe(0);
              expect(p.to % PERIOD_MS[p.period]).toBe(0);
            }
            at = p.to;
          }
          expect(at).toBe(from + length);
          expect(pieces.filter((p) => p.period === 'raw').length).toBeLessThanOrEqual(2);
          // At most one day piece, two hour pieces and two minute pieces: the rows read are bounded.
          for (const [period, most] of [
            ['d', 1],
            ['h', 2],
            ['m', 2],
          ] as const) {
            expect(pieces.filter((p) => p.period === period).length).toBeLessThanOrEqual(most);
          }
        },
      ),
    );
  });
});

describe('hours and words', () => {
  it('rounds to hour edges', () => {
    const t = Date.parse('2026-01-05T08:30:00Z');
    expect(new Date(floorHour(t)).toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(new Date(ceilHour(t)).toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(ceilHour(floorHour(t))).toBe(floorHour(t));
  });

  it.each([
    [45, '45s'],
    [300, '5m'],
    [330, '5m 30s'],
    [3600, '1h'],
    [7500, '2h 5m'],
    [90_000, '1d 1h'],
  ])('%i s reads %s', (s, text) => {
    expect(humanDuration(s)).toBe(text);
  });

  it('the summary names the numbers that matter and the status first when it is not active', () => {
    const base = {
      window: '24h',
      turns: 1,
      reply_rate: 1,
      first_response_p50_seconds: 45,
      conversations_active: 1,
      queue_pressure: 0,
      reasons: ['the AI responder is failing'],
    };
    expect(summarySentence({ ...base, status: 'active' })).toBe(
      'Replied to 100% of 1 customer turn in the last 24h (median first response 45s); 1 active conversation, 0 waiting in the queue.',
    );
    expect(summarySentence({ ...base, status: 'degraded' })).toMatch(
      /^Degraded: the AI responder is failing\. /,
    );
  });
});
