/** Two decimals: what the benchmark reports print. */
export function round(n: number): number {
  return Math.round(n * 100) / 100;
}
