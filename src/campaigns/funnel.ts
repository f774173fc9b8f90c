// A campaign's funnel and its forecast finish (SPEC §14). Pure functions over the campaign's counts.
import type { CampaignCounts } from './campaign.js';

const DAY = 24 * 3_600_000;

export interface Funnel {
  targeted: number;
  skipped_opted_out: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
}

/**
 * Each stage counts the recipients that reached at least that stage (a reply implies the message was
 * read and delivered, even when those statuses never came), unlike `counts`, which are states now.
 */
export function funnelOf(total: number, c: CampaignCounts): Funnel {
  return {
    targeted: total,
    skipped_opted_out: c.skipped_opted_out,
    queued: c.queued,
    sent: c.sent + c.delivered + c.read + c.replied,
    delivered: c.delivered + c.read + c.replied,
    read: c.read + c.replied,
    replied: c.replied,
    failed: c.failed,
  };
}

export interface EtaInput {
  state: string;
  now: number;
  start_at: number | null;
  completed_at: number | null;
  /** Recipients still queued. */
  left: number;
  rate_per_second: number;
  /** Unique customers per 24 h (null: unknown or unlimited). */
  limit: number | null;
  /** What the limit still allows in the next 24 h. */
  limit_left: number | null;
}

/**
 * When the campaign should be done: its queued recipients at its rate from when it (re)starts. A
 * running or scheduled campaign's recipients were counted against the messaging limit when it
 * started; a draft may need more days: what is left of the limit today, then `limit` a day.
 * Null while paused or cancelled (nothing is sent until someone acts).
 */
export function forecastFinish(i: EtaInput): number | null {
  if (i.state === 'completed') return i.completed_at;
  if (i.state === 'paused' || i.state === 'cancelled') return null;
  const begin = Math.max(i.now, i.start_at ?? i.now);
  const sendMs = (n: number) => Math.ceil((n / i.rate_per_second) * 1000);
  if (i.left === 0) return begin;
  if (i.state !== 'draft' || i.limit === null) return begin + sendMs(i.left);
  const today = Math.min(i.left, Math.max(0, i.limit_left ?? i.limit));
  const rest = i.left - today;
  if (rest === 0) return begin + sendMs(i.left);
  const days = Math.ceil(rest / i.limit);
  return begin + days * DAY + sendMs(rest - (days - 1) * i.limit);
}
