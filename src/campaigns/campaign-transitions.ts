// Moving a campaign between states (SPEC §7, §14) with its events (SPEC §11): every move records
// `campaign.state_changed`, and a move to `completed` or `paused` also `campaign.completed` /
// `campaign.paused` (with the reason). In the caller's transaction.
import { recordEvent } from '../events/record-event.js';
import type { IdSource } from '../lib/ids.js';
import { agentsRepo } from '../store/agents-repo.js';
import { type CampaignPatch, type CampaignRow, campaignsRepo } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import type { CampaignState } from '../store/tables.js';

/** Moves the campaign to `to` when it is in one of `from`; false when it was not (nothing recorded). */
export async function moveCampaign(
  trx: Db,
  campaign: Pick<CampaignRow, 'id' | 'agent_id' | 'state'>,
  from: CampaignState[],
  to: CampaignState,
  patch: CampaignPatch,
  ctx: { ids: IdSource; now: number; reason?: string },
): Promise<boolean> {
  if (!(await campaignsRepo.transition(trx, campaign.id, from, to, patch))) return false;
  const agent = await agentsRepo.findById(trx, campaign.agent_id);
  const data = {
    campaign_id: campaign.id,
    from: campaign.state,
    to,
    ...(ctx.reason !== undefined ? { reason: ctx.reason } : {}),
  };
  const base = { agent_uuid: agent?.uuid ?? null, conversation_id: null, data };
  await recordEvent(trx, { type: 'campaign.state_changed', ...base }, ctx);
  if (to === 'completed') await recordEvent(trx, { type: 'campaign.completed', ...base }, ctx);
  if (to === 'paused') {
    await recordEvent(
      trx,
      { type: 'campaign.paused', ...base, data: { ...data, reason: ctx.reason ?? 'root' } },
      ctx,
    );
  }
  return true;
}
