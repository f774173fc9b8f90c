// How the dashboard writes numbers and times: percentages, durations a person reads at a glance, and
// UTC times (the daemon has no idea of the reader's zone; the client script rewrites them locally).
import { toIso } from '../lib/clock.js';
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v * 100)}%`;
}

export function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v < 60) return `${Math.round(v)}s`;
  if (v < 3600) {
    const m = Math.floor(v / 60);
    const s = Math.round(v % 60);
    return s === 0 ? `${m}m` : `${m}m ${s}s`;
  }
  if (v < 86_400) {
    const h = Math.floor(v / 3600);
    const m = Math.round((v % 3600) / 60);
    return m === 0 ? `${h}h` : `${h}h ${m}m`;
  }
  return `${(v / 86_400).toFixed(1)}d`;
}

/** "2026-01-05 08:00 UTC" from ms or an ISO string. */
export function when(t: number | string | null | undefined): string {
  if (t === null || t === undefined) return '—';
  const iso = typeof t === 'number' ? toIso(t) : t;
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
