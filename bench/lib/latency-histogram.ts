// A log-scale latency histogram (about 2.5 % resolution) that merges across load-client processes.

const STEPS_PER_DOUBLING = 28;

export type Histogram = Record<string, number>;

export function record(h: Histogram, micros: number): void {
  const bucket = micros <= 1 ? 0 : Math.round(Math.log2(micros) * STEPS_PER_DOUBLING);
  h[bucket] = (h[bucket] ?? 0) + 1;
}

export function merge(into: Histogram, from: Histogram): Histogram {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** The latency (ms) below which `p` percent of the recorded requests fall. */
export function percentile(h: Histogram, p: number): number {
  const buckets = Object.entries(h)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, v]) => s + v, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (const [k, v] of buckets) {
    seen += v;
    if (seen >= (p / 100) * total) return 2 ** (k / STEPS_PER_DOUBLING) / 1000;
  }
  const last = buckets.at(-1)?.[0] ?? 0;
  return 2 ** (last / STEPS_PER_DOUBLING) / 1000;
}
