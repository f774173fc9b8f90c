// Durations in config and queries are strings like "30s", "15m", "4h", "2d"; they become milliseconds
// once, at the boundary.

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PATTERN = /^(\d+)(ms|s|m|h|d|w)$/;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2] as string];
  if (unit === undefined) return undefined;
  const ms = Number(m[1]) * unit;
  // Past 2^53 the number is no longer exact and would print back as "8.64e+27ms": not a duration.
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact string for a number of milliseconds ("90000" → "90s"). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', UNITS.w],
    ['d', UNITS.d],
    ['h', UNITS.h],
    ['m', UNITS.m],
    ['s', UNITS.s],
  ] as const) {
    if (size !== undefined && ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
