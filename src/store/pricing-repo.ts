// Meta's pricing per message (SPEC §14): stored on the message, and counted per hour by what sent it,
// category and recipient prefix (pricing_counts), with the replies campaigns and follow-ups earned
// (earned_replies), so cost is read from a few rollup rows, never summed over messages per request.
import { type SelectQueryBuilder, sql } from 'kysely';
import type { Db } from './db.js';
import type { Database } from './tables.js';

export interface MessagePricing {
  billable: boolean | null;
  category: string | null;
  pricing_model: string | null;
  type: string | null;
}

export interface PricingCountKey {
  hour: number;
  kind: string;
  campaign_id: string;
  category: string;
  prefix: string;
}

export interface PricingGroupRow {
  category: string;
  prefix: string;
  billable: number;
  free: number;
}

export const pricingRepo = Object.freeze({
  /** Stores what the latest status said; returns the pricing the message had before (category null: none). */
  async setMessagePricing(db: Db, wamid: string, p: MessagePricing): Promise<void> {
    await db
      .updateTable('messages')
      .set({
        pricing_billable: p.billable === null ? null : p.billable ? 1 : 0,
        pricing_category: p.category,
        pricing_model: p.pricing_model,
        pricing_type: p.type,
      })
      .where('wamid', '=', wamid)
      .execute();
  },

  async count(db: Db, key: PricingCountKey, billable: boolean): Promise<void> {
    const column = billable ? 'billable' : 'free';
    await db
      .insertInto('pricing_counts')
      .values({ ...key, billable: billable ? 1 : 0, free: billable ? 0 : 1 })
      .onConflict((oc) =>
        oc
          .columns(['hour', 'kind', 'campaign_id', 'category', 'prefix'])
          .doUpdateSet({ [column]: sql`pricing_counts.${sql.ref(column)} + 1` }),
      )
      .execute();
  },

  async earnedReply(db: Db, hour: number, kind: 'campaign' | 'follow_up'): Promise<void> {
    await db
      .insertInto('earned_replies')
      .values({ hour, kind, n: 1 })
      .onConflict((oc) => oc.columns(['hour', 'kind']).doUpdateSet({ n: sql`earned_replies.n + 1` }))
      .execute();
  },

  /** A campaign's priced messages by category and prefix. */
  async campaignGroups(db: Db, campaignId: string): Promise<PricingGroupRow[]> {
    return groups(db.selectFrom('pricing_counts').where('campaign_id', '=', campaignId));
  },

  /** Priced messages of the given kinds (all when omitted) sent in [from, to). */
  async windowGroups(db: Db, from: number, to: number, kinds?: string[]): Promise<PricingGroupRow[]> {
    let q = db.selectFrom('pricing_counts').where('hour', '>=', from).where('hour', '<', to);
    if (kinds) q = q.where('kind', 'in', kinds);
    return groups(q);
  },

  /** Replies earned in [from, to) by kind. */
  async earnedReplies(db: Db, from: number, to: number): Promise<Record<'campaign' | 'follow_up', number>> {
    const rows = await db
      .selectFrom('earned_replies')
      .select((eb) => ['kind', eb.fn.sum<number>('n').as('n')])
      .where('hour', '>=', from)
      .where('hour', '<', to)
      .groupBy('kind')
      .execute();
    const out = { campaign: 0, follow_up: 0 };
    for (const r of rows) out[r.kind] = Number(r.n);
    return out;
  },
});

type PricingSelect = SelectQueryBuilder<Database, 'pricing_counts', object>;

async function groups(q: PricingSelect): Promise<PricingGroupRow[]> {
  const rows = await q
    .select((eb) => [
      'category',
      'prefix',
      eb.fn.sum<number>('billable').as('billable'),
      eb.fn.sum<number>('free').as('free'),
    ])
    .groupBy(['category', 'prefix'])
    .execute();
  return rows.map((r) => ({
    category: r.category,
    prefix: r.prefix,
    billable: Number(r.billable),
    free: Number(r.free),
  }));
}
