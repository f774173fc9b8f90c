// Meta's pricing on statuses (SPEC §14), in the caller's transaction: the message keeps what its
// latest status said (billable, category, pricing_model, type), and the first status that carries a
// pricing counts the message once in pricing_counts by hour, sender (campaign, follow-up, other),
// category and recipient prefix. Replies earned by a campaign send or a follow-up are counted by hour
// in earned_replies, so cost per reply is read from rollups.
import { campaignsRepo } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { pricingRepo } from '../store/pricing-repo.js';

const HOUR = 3_600_000;
export const hourOf = (ms: number) => Math.floor(ms / HOUR) * HOUR;

interface PricedEvent {
  payload: string;
  timestamp: number;
  recipient_id: string | null;
}

interface Pricing {
  billable?: boolean;
  category?: string;
  pricing_model?: string;
  type?: string;
}

function pricingOf(payload: string): Pricing | undefined {
  try {
    const p = (JSON.parse(payload) as { pricing?: unknown }).pricing;
    return p !== null && typeof p === 'object' ? (p as Pricing) : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown, max = 60) =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max).toLowerCase() : null;

/** Applies the pricing of `events` (already stored status events of one outbound message). */
export async function recordPricing(
  trx: Db,
  message: { wamid: string; conversation_id: string | null; pricing_category?: string | null },
  events: PricedEvent[],
): Promise<void> {
  let latest: { pricing: Pricing; event: PricedEvent } | undefined;
  for (const e of events) {
    const pricing = pricingOf(e.payload);
    if (pricing && (!latest || e.timestamp >= latest.event.timestamp)) latest = { pricing, event: e };
  }
  if (!latest) return;
  const { pricing, event } = latest;
  const category = text(pricing.category) ?? 'unknown';
  await pricingRepo.setMessagePricing(trx, message.wamid, {
    billable: typeof pricing.billable === 'boolean' ? pricing.billable : null,
    category,
    pricing_model: text(pricing.pricing_model),
    type: text(pricing.type),
  });
  // Counted once per message: the first time any pricing is seen.
  if (message.pricing_category != null) return;
  const recipient = await campaignsRepo.recipientByWamid(trx, message.wamid);
  const followUp =
    !recipient && message.conversation_id
      ? await followUpsRepo.findSentWamid(trx, message.conversation_id, message.wamid)
      : undefined;
  const digits = (event.recipient_id ?? recipient?.wa_id ?? '').replace(/\D/g, '');
  await pricingRepo.count(
    trx,
    {
      hour: hourOf(event.timestamp),
      kind: recipient ? 'campaign' : followUp ? 'follow_up' : 'other',
      campaign_id: recipient?.campaign_id ?? '',
      category,
      prefix: digits.slice(0, 4),
    },
    pricing.billable !== false,
  );
}
