// Cost over an insights window (SPEC §14): every priced message counted in the window's hours, and
// cost per reply earned = what campaign sends and follow-ups cost ÷ the replies they earned. Business
// wide (pricing rollups are not kept per agent). Read from rollups only.
import type { Config } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { pricingRepo } from '../store/pricing-repo.js';
import { hourOf } from './pricing-events.js';
import { type CostView, costOf } from './rate-card.js';

export interface WindowCost extends CostView {
  /** What campaign sends and follow-ups cost, the part `per_reply` divides. */
  outreach_total: number | null;
}

export async function windowCost(db: Db, config: Config, from: number, to: number): Promise<WindowCost> {
  const start = hourOf(from);
  const all = await pricingRepo.windowGroups(db, start, to + 1);
  const outreach = await pricingRepo.windowGroups(db, start, to + 1, ['campaign', 'follow_up']);
  const replies = await pricingRepo.earnedReplies(db, start, to + 1);
  const earned = replies.campaign + replies.follow_up;
  const total = costOf(all, config.pricing, earned);
  const spent = costOf(outreach, config.pricing, earned);
  return { ...total, outreach_total: spent.total, per_reply: spent.per_reply };
}
