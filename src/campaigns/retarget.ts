// Retarget (SPEC §14): a new draft campaign of the recipients of a finished or paused campaign who
// did not reply (`no_reply`), did not read (`not_read`) or failed with a code that may succeed later
// (`failed`), never customers who opted out since, linked to its source by `retarget_of`. Copied in
// one INSERT ... SELECT inside one transaction, so a 100k audience is never held in memory.
import { z } from 'zod';
import { AppError } from '../lib/app-error.js';
import { ERROR_CODES } from '../outbound/error-codes.js';
import type { TemplateMessage } from '../outbound/transports/transport.js';
import { agentsRepo } from '../store/agents-repo.js';
import { type CampaignRow, campaignsRepo } from '../store/campaigns-repo.js';
import type { RecipientState } from '../store/tables.js';
import { withTransaction } from '../store/transactions.js';
import { type CampaignView, draftCampaignFields, toCampaign } from './campaign.js';
import { effectiveLimit } from './messaging-limit.js';
import { type CampaignDeps, requireApprovedTemplate } from './service.js';

export const AUDIENCES = ['no_reply', 'not_read', 'failed'] as const;
export type Audience = (typeof AUDIENCES)[number];

const AUDIENCE_STATES: Record<Audience, RecipientState[]> = {
  no_reply: ['sent', 'delivered', 'read'],
  not_read: ['sent', 'delivered'],
  failed: ['failed'],
};

/**
 * Failure codes worth another try: the retryable ones (throttling, Meta-side trouble: these failed
 * only because retries ran out) and 131049, Meta's per-user marketing limit, which lifts with time.
 * A recipient failed without a code (network errors until retries ran out) counts too.
 */
export const RETARGETABLE_CODES: readonly number[] = [
  ...ERROR_CODES.filter((e) => e.kind === 'retryable').map((e) => e.code),
  131049,
];

/** States a campaign can be retargeted from: nothing of it is still going out. */
const RETARGETABLE_FROM = ['paused', 'completed', 'cancelled'];

export const retargetBody = z.strictObject({
  audience: z.enum(AUDIENCES, { error: `must be one of ${AUDIENCES.join(', ')}` }),
  template: z.strictObject({
    name: z.string().min(1).max(512),
    language: z.string().min(2).max(15),
    components: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
  }),
  start_at: z.iso.datetime({ offset: true }).optional().describe('ISO-8601; start sends no earlier'),
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('default: "<source name> (retarget: <audience>)"'),
});

export interface RetargetInput {
  audience: Audience;
  template: TemplateMessage;
  start_at?: number | null;
  name?: string;
}

export async function retargetCampaign(
  deps: CampaignDeps,
  sourceId: string,
  input: RetargetInput,
): Promise<CampaignView> {
  const config = deps.config();
  const source = await campaignsRepo.get(deps.db, sourceId);
  if (!source)
    throw new AppError('not_found', `no campaign with id ${JSON.stringify(sourceId.slice(0, 100))}`);
  if (!RETARGETABLE_FROM.includes(source.state)) {
    throw new AppError(
      'invalid_state',
      source.state === 'draft'
        ? 'cannot retarget a draft: nothing was sent yet; start it, or edit its recipients by creating a new campaign'
        : `cannot retarget a campaign that is ${source.state}: its recipients are still being sent to; pause it (POST .../${source.id}/pause) or wait until it completes, then retarget`,
      { state: source.state, allowed_from: RETARGETABLE_FROM },
    );
  }
  await requireApprovedTemplate(deps.db, config, input.template);
  const agent = await agentsRepo.findById(deps.db, source.agent_id);
  const now = deps.clock.now();
  const id = deps.ids.next();
  const name = (input.name ?? `${source.name} (retarget: ${input.audience})`).slice(0, 200);
  const row: CampaignRow = {
    ...source,
    ...draftCampaignFields(now, 0),
    id,
    name,
    template: JSON.stringify(input.template),
    start_at: input.start_at ?? null,
    retarget_of: source.id,
  };
  const { limit } = await effectiveLimit(deps.db, config, source.phone_number_id);
  const total = await withTransaction(deps.db, async (trx) => {
    await campaignsRepo.insert(trx, row);
    const n = await campaignsRepo.copyAudience(trx, {
      sourceId: source.id,
      targetId: id,
      states: AUDIENCE_STATES[input.audience],
      ...(input.audience === 'failed' ? { codes: [...RETARGETABLE_CODES] } : {}),
      now,
    });
    if (n === 0) {
      throw new AppError(
        'conflict',
        `no recipient of campaign ${source.id} is in the audience ${input.audience} (opted-out customers are left out${input.audience === 'failed' ? ', and only failures that may succeed later count' : ''}); nothing was created`,
        { audience: input.audience, recipients: 0 },
      );
    }
    if (limit !== null && n > limit) {
      throw new AppError(
        'messaging_limit_exceeded',
        `the audience has ${n} recipients but the business's messaging limit is ${limit} customers per 24 hours; nothing was created`,
        { recipients: n, messaging_limit: limit },
      );
    }
    await campaignsRepo.setQueuedTotal(trx, id, n);
    return n;
  });
  return toCampaign({ ...row, recipients_total: total, count_queued: total }, agent?.uuid ?? '');
}
