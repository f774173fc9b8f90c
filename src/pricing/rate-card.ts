// Cost from Meta's per-message pricing and the operator's rate card (SPEC §14, config `pricing`):
// each priced message's category and recipient prefix pick a price (the longest calling code of the
// card that starts the recipient's number, else "*"). Sums are made in millionths so that totals are
// exact decimals. Without a rate card only billable counts by category are given. Pure functions.
import { z } from 'zod';
import type { Config } from '../config/schema.js';

export type RateCard = NonNullable<Config['pricing']['rates']>;

/** Messages of one category to one recipient prefix (the first four digits of the number). */
export interface PricedGroup {
  category: string;
  prefix: string;
  billable: number;
  free: number;
}

export const costSchema = z
  .object({
    currency: z.string().nullable().describe('the rate card currency; null without a rate card'),
    total: z.number().nullable().describe('sum over billable messages; null without a rate card'),
    by_category: z.record(
      z.string(),
      z.object({ billable: z.number(), free: z.number(), cost: z.number().nullable() }),
    ),
    unpriced: z
      .number()
      .describe('billable messages the rate card has no price for (their category or country is missing)'),
    replies: z.number().describe('replies these messages earned'),
    per_reply: z.number().nullable().describe('total / replies; null without a rate card or replies'),
  })
  .describe('what the messages cost, from the pricing Meta reported on their statuses');

export type CostView = z.infer<typeof costSchema>;

/** The price of one message of `category` to a number starting with `prefix`, if the card has one. */
export function priceOf(rates: RateCard, category: string, prefix: string): number | undefined {
  const card = rates[category as keyof RateCard];
  if (!card) return undefined;
  for (let len = Math.min(4, prefix.length); len >= 1; len--) {
    const price = card[prefix.slice(0, len)];
    if (price !== undefined) return price;
  }
  return card['*'];
}

const MICRO = 1_000_000;
const toMicro = (price: number) => Math.round(price * MICRO);
const fromMicro = (micro: number) => micro / MICRO;

export function costOf(groups: PricedGroup[], pricing: Config['pricing'], replies: number): CostView {
  const rates = pricing.rates;
  const byCategory: CostView['by_category'] = {};
  const micros = new Map<string, number>();
  let unpriced = 0;
  for (const g of groups) {
    const c = byCategory[g.category] ?? { billable: 0, free: 0, cost: rates ? 0 : null };
    byCategory[g.category] = c;
    c.billable += g.billable;
    c.free += g.free;
    if (!rates || g.billable === 0) continue;
    const price = priceOf(rates, g.category, g.prefix);
    if (price === undefined) {
      unpriced += g.billable;
      continue;
    }
    micros.set(g.category, (micros.get(g.category) ?? 0) + toMicro(price) * g.billable);
  }
  let total = 0;
  for (const [category, micro] of micros) {
    const c = byCategory[category];
    if (c) c.cost = fromMicro(micro);
    total += micro;
  }
  return {
    currency: rates ? pricing.currency : null,
    total: rates ? fromMicro(total) : null,
    by_category: byCategory,
    unpriced,
    replies,
    per_reply: rates && replies > 0 ? Math.round(total / replies) / MICRO : null,
  };
}
