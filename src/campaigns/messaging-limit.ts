// Meta's messaging limit (SPEC §14): how many unique customers business-initiated messages may reach
// in a moving 24 h. The limit is configured (channels.messaging_limit, or the older
// campaigns.messaging_limit) or read from the phone number by the template sync (template-sync.ts);
// what is used is the distinct customers campaigns sent to in the last 24 h plus the recipients still
// queued in running or scheduled campaigns, which were counted when those started.
import type { Config } from '../config/schema.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import { settingsRepo } from '../store/settings-repo.js';

export const DAY = 24 * 3_600_000;

/** The settings key the phone number's limit is stored under (a number, or "unlimited"). */
export const phoneLimitKey = (phoneNumberId: string) => `messaging_limit:${phoneNumberId}`;

export interface LimitSource {
  limit: number | null;
  source: 'config' | 'phone_number' | 'none';
}

export async function effectiveLimit(db: Db, config: Config, phoneNumberId: string): Promise<LimitSource> {
  const configured = config.channels.messaging_limit ?? config.campaigns.messaging_limit;
  if (configured !== null) return { limit: configured, source: 'config' };
  const stored = await settingsRepo.get(db, phoneLimitKey(phoneNumberId));
  if (stored === undefined) return { limit: null, source: 'none' };
  const n = Number(stored);
  return { limit: Number.isInteger(n) && n > 0 ? n : null, source: 'phone_number' };
}

export interface LimitUse extends LimitSource {
  /** Distinct customers sent to in the last 24 h. */
  used_24h: number;
  /** Recipients queued in other running or scheduled campaigns. */
  committed: number;
  /** What is left for a campaign starting now (null without a limit). */
  left: number | null;
}

export async function limitUse(
  db: Db,
  config: Config,
  phoneNumberId: string,
  campaignId: string,
  now: number,
): Promise<LimitUse> {
  const source = await effectiveLimit(db, config, phoneNumberId);
  if (source.limit === null) return { ...source, used_24h: 0, committed: 0, left: null };
  const used = await campaignsRepo.customersSentSince(db, now - DAY);
  const committed = await campaignsRepo.queuedElsewhere(db, campaignId);
  return { ...source, used_24h: used, committed, left: Math.max(0, source.limit - used - committed) };
}

/**
 * A Meta tier name or number → customers per 24 h; null for unlimited or anything unreadable.
 * Meta answers `TIER_250`, `TIER_2K`, `TIER_10K`, `TIER_100K`, `TIER_UNLIMITED` (older numbers
 * `TIER_50`, `TIER_1K`), or a number.
 */
export function parseLimitTier(value: unknown): number | 'unlimited' | null {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value !== 'string') return null;
  const m = /^TIER_(\d+)(K?)$/i.exec(value.trim());
  if (m) return Number(m[1]) * (m[2] ? 1000 : 1);
  if (/^TIER_UNLIMITED$/i.test(value.trim())) return 'unlimited';
  return null;
}
