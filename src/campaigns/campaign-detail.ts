// One campaign as its detail shows it (SPEC §14): the campaign, its funnel, failures by code with
// Meta's titles, cost from the pricing Meta reported (rate card in config), and the forecast finish.
// Everything is read from counters and small grouped queries; nothing walks all recipients.
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/clock.js';
import { lookupErrorCode } from '../outbound/error-codes.js';
import { costOf, costSchema } from '../pricing/rate-card.js';
import { agentsRepo } from '../store/agents-repo.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import { pricingRepo } from '../store/pricing-repo.js';
import { campaignSchema, countsOf, toCampaign } from './campaign.js';
import { forecastFinish, funnelOf } from './funnel.js';
import { limitUse } from './messaging-limit.js';

export const campaignDetailSchema = campaignSchema.extend({
  funnel: z
    .object({
      targeted: z.number(),
      skipped_opted_out: z.number(),
      queued: z.number(),
      sent: z.number(),
      delivered: z.number(),
      read: z.number(),
      replied: z.number(),
      failed: z.number(),
    })
    .describe('recipients that reached at least each stage (a reply counts as read and delivered)'),
  failures: z
    .array(z.object({ code: z.number().nullable(), title: z.string(), count: z.number() }))
    .describe("failed recipients by error code, most first, with Meta's title for the code"),
  cost: costSchema,
  eta: z
    .string()
    .nullable()
    .describe(
      'forecast finish: queued recipients at the campaign rate from its start, over more days when the messaging limit allows fewer; null while paused or cancelled',
    ),
});

export type CampaignDetail = z.infer<typeof campaignDetailSchema>;

export async function getCampaignDetail(
  db: Db,
  config: Config,
  id: string,
  now: number,
): Promise<CampaignDetail> {
  const row = await campaignsRepo.get(db, id);
  if (!row) throw new AppError('not_found', `no campaign with id ${JSON.stringify(id.slice(0, 100))}`);
  const agent = await agentsRepo.findById(db, row.agent_id);
  const counts = countsOf(row);
  const failures = (await campaignsRepo.failuresByCode(db, id))
    .map((f) => ({
      code: f.code,
      title:
        lookupErrorCode(f.code)?.title ?? f.title ?? (f.code === null ? 'No error code' : 'Unknown error'),
      count: f.count,
    }))
    .sort((a, b) => b.count - a.count || (a.code ?? 0) - (b.code ?? 0));
  const cost = costOf(await pricingRepo.campaignGroups(db, id), config.pricing, counts.replied);
  const limit =
    row.state === 'draft'
      ? await limitUse(db, config, row.phone_number_id, row.id, now)
      : { limit: null, left: null };
  const eta = forecastFinish({
    state: row.state,
    now,
    start_at: row.start_at,
    completed_at: row.completed_at,
    left: counts.queued,
    rate_per_second: row.rate_per_second,
    limit: limit.limit,
    limit_left: limit.left,
  });
  return {
    ...toCampaign(row, agent?.uuid ?? ''),
    funnel: funnelOf(row.recipients_total, counts),
    failures,
    cost,
    eta: eta === null ? null : toIso(eta),
  };
}
