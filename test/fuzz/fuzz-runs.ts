// How many inputs each fuzz target tries: a modest number in `npm test`, 10,000 or more with
// `npm run test:fuzz` (FUZZ_RUNS=10000). FUZZ_SEED replays a failing run that fast-check reported.
import type { Parameters } from 'fast-check';

const env = process.env;

export const FUZZ_RUNS = positiveInt(env.FUZZ_RUNS) ?? 300;

/** fast-check parameters for one target; `share` scales runs for a target split over several properties. */
export function fuzzParams<T>(share = 1): Parameters<T> {
  const seed = env.FUZZ_SEED !== undefined ? Number(env.FUZZ_SEED) : undefined;
  return {
    numRuns: Math.max(1, Math.round(FUZZ_RUNS * share)),
    ...(seed !== undefined && Number.isFinite(seed) ? { seed } : {}),
    ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH } : {}),
  };
}

/** A test timeout that grows with the number of runs (the full mode takes minutes, not seconds). */
export function fuzzTimeout(msPerRun: number, share = 1): number {
  return 60_000 + Math.round(FUZZ_RUNS * share * msPerRun);
}

function positiveInt(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 ? n : undefined;
}
