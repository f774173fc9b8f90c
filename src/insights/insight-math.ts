// The arithmetic of insights (SPEC §8), plain functions over plain numbers: how a window splits into
// rollup periods, the response-time histogram kept per period, nearest-rank percentiles, and the
// dashboard sentence.

export const MINUTE_MS = 60 * 1000;
export const HOUR_MS = 60 * MINUTE_MS;

export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function ceilHour(ms: number): number {
  return Math.ceil(ms / HOUR_MS) * HOUR_MS;
}

export const DAY_MS = 24 * HOUR_MS;

/** Start of the UTC day. */
export function floorDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** Rollup periods: UTC day, hour, minute. */
export type Period = 'd' | 'h' | 'm';

export const PERIOD_MS: Record<Period, number> = { d: DAY_MS, h: HOUR_MS, m: MINUTE_MS };

/** A piece of a window: whole periods [from, to) read from rollup rows, or `raw` (under a minute). */
export interface WindowPiece {
  period: Period | 'raw';
  from: number;
  to: number;
}

/**
 * Splits [from, to) into the fewest rollup reads: whole days in the middle, whole hours beside them,
 * whole minutes beside those, and what is left at each end (under a minute each) as raw pieces. So a
 * window reads at most ~30 day, 46 hour and 118 minute rows and two sub-minute ranges of raw rows,
 * however much traffic it holds.
 */
export function windowPieces(from: number, to: number, periods: Period[] = ['d', 'h', 'm']): WindowPiece[] {
  if (from >= to) return [];
  const [period, ...smaller] = periods;
  if (period === undefined) return [{ period: 'raw', from, to }];
  const size = PERIOD_MS[period];
  const a = Math.ceil(from / size) * size;
  const b = Math.floor(to / size) * size;
  if (a >= b) return windowPieces(from, to, smaller);
  return [...windowPieces(from, a, smaller), { period, from: a, to: b }, ...windowPieces(b, to, smaller)];
}

// Response-time histogram: 1 s steps under a minute, 10 s under 10 min, 1 min under an hour, 15 min
// under a day, 1 h under a week, then one overflow bucket. Each range: [from s, step s, buckets].
const RANGES: [number, number, number][] = [
  [0, 1, 60],
  [60, 10, 54],
  [600, 60, 50],
  [3600, 900, 92],
  [86_400, 3600, 144],
];
const OVERFLOW_FROM = 7 * 86_400;
const OVERFLOW_BUCKET = RANGES.reduce((n, r) => n + r[2], 0);

/** The histogram bucket of a response time. */
export function responseBucket(ms: number): number {
  const s = Math.max(0, ms) / 1000;
  let base = 0;
  for (const [from, step, count] of RANGES) {
    if (s < from + step * count) return base + Math.floor((s - from) / step);
    base += count;
  }
  return OVERFLOW_BUCKET;
}

/** The lower bound of a bucket, in seconds: what a percentile read from the histogram reports. */
export function bucketLowerSeconds(bucket: number): number {
  let base = 0;
  for (const [from, step, count] of RANGES) {
    if (bucket < base + count) return from + (bucket - base) * step;
    base += count;
  }
  return OVERFLOW_FROM;
}

export type Histogram = Record<string, number>;

export function addToHistogram(h: Histogram, bucket: number, n = 1): Histogram {
  const key = String(bucket);
  return { ...h, [key]: (h[key] ?? 0) + n };
}

export function mergeHistograms(into: Histogram, from: Histogram): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/** Nearest rank: the smallest value with at least p of the values at or below it. */
export function rankOf(p: number, n: number): number {
  return Math.max(1, Math.ceil(p * n));
}

/** Exact percentile of response times (ms), in seconds; null when there are none. */
export function percentileSeconds(sortedMs: number[], p: number): number | null {
  if (sortedMs.length === 0) return null;
  return (sortedMs[rankOf(p, sortedMs.length) - 1] as number) / 1000;
}

/** Percentile read from a histogram: the lower bound of the bucket holding the nearest rank. */
export function histogramPercentileSeconds(h: Histogram, p: number): number | null {
  const buckets = Object.entries(h)
    .map(([k, n]) => [Number(k), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = rankOf(p, total);
  let seen = 0;
  for (const [bucket, n] of buckets) {
    seen += n;
    if (seen >= rank) return bucketLowerSeconds(bucket);
  }
  return bucketLowerSeconds((buckets[buckets.length - 1] as readonly [number, number])[0]);
}

/**
 * A histogram as counts by bucket index, for merging many stored histograms per request: a 30-day
 * window for every agent merges about a hundred rows of up to ~400 buckets each, and building an
 * object per row (JSON.parse, then entries to merge) was the part of a request that grew with traffic
 * (denser rows at 1M conversations than at 10k). One array of OVERFLOW_BUCKET + 1 slots instead.
 */
export function bucketCounts(): Float64Array {
  return new Float64Array(OVERFLOW_BUCKET + 1);
}

/** What JSON.stringify writes for a histogram: bucket keys and counts, non-negative integers. */
const CANONICAL_HISTOGRAM = /^\{(?:"\d+":\d+(?:,"\d+":\d+)*)?\}$/;

function addCount(counts: Float64Array, bucket: number, n: number): void {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket > OVERFLOW_BUCKET) {
    throw new Error(`not a response-time bucket: ${bucket}`);
  }
  counts[bucket] = (counts[bucket] as number) + n;
}

/**
 * Adds a stored histogram (its JSON text) into `counts`. The stored form is read digit by digit, with
 * no object built; any other JSON spelling goes through JSON.parse (same sums either way).
 */
export function addHistogramJson(counts: Float64Array, text: string): void {
  if (!CANONICAL_HISTOGRAM.test(text)) {
    for (const [k, n] of Object.entries(JSON.parse(text) as Histogram)) addCount(counts, Number(k), n);
    return;
  }
  let i = 1;
  while (i < text.length - 1) {
    // At a key's opening quote: "<bucket>":<count>, then a comma or the closing brace.
    let bucket = 0;
    for (i += 1; text.charCodeAt(i) !== 34; i += 1) bucket = bucket * 10 + text.charCodeAt(i) - 48;
    let n = 0;
    for (i += 2; i < text.length - 1 && text.charCodeAt(i) !== 44; i += 1)
      n = n * 10 + text.charCodeAt(i) - 48;
    addCount(counts, bucket, n);
    i += 1;
  }
}

/** histogramPercentileSeconds over bucketCounts: buckets holding more than zero, in bucket order. */
export function countsPercentileSeconds(counts: Float64Array, p: number): number | null {
  let total = 0;
  for (const n of counts) if (n > 0) total += n;
  if (total === 0) return null;
  const rank = rankOf(p, total);
  let seen = 0;
  let last = 0;
  for (let bucket = 0; bucket < counts.length; bucket += 1) {
    const n = counts[bucket] as number;
    if (n <= 0) continue;
    seen += n;
    last = bucket;
    if (seen >= rank) return bucketLowerSeconds(bucket);
  }
  return bucketLowerSeconds(last);
}

export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** "2h 5m", "45s": durations for people. */
export function humanDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)}h` : ''}`;
}

export interface SummaryInput {
  status: 'active' | 'degraded' | 'paused';
  window: string;
  turns: number;
  reply_rate: number | null;
  first_response_p50_seconds: number | null;
  conversations_active: number;
  queue_pressure: number;
  reasons: string[];
}

/** One plain sentence (two when the runtime is not active) for a dashboard card. */
export function summarySentence(m: SummaryInput): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const replies =
    m.turns === 0 || m.reply_rate === null
      ? `No customer turns in the last ${m.window}`
      : `Replied to ${pct(m.reply_rate)} of ${m.turns} customer turn${m.turns === 1 ? '' : 's'} in the last ${m.window}${
          m.first_response_p50_seconds === null
            ? ''
            : ` (median first response ${humanDuration(m.first_response_p50_seconds)})`
        }`;
  const sentence = `${replies}; ${m.conversations_active} active conversation${m.conversations_active === 1 ? '' : 's'}, ${m.queue_pressure} waiting in the queue.`;
  if (m.status === 'paused') return `Paused by root: nothing is sent. ${sentence}`;
  if (m.status === 'degraded') {
    return `Degraded: ${m.reasons[0] ?? 'a part of the runtime is failing'}. ${sentence}`;
  }
  return sentence;
}
