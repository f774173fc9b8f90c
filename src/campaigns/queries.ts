// What the API lists about campaigns (SPEC §7): campaigns newest first and a campaign's recipients in
// list order, each a keyset page. One campaign with its counts is getCampaign in service.ts.
import { AppError } from '../lib/app-error.js';
import { agentsRepo } from '../store/agents-repo.js';
import { campaignsRepo, type RecipientRow } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import type { CampaignState, RecipientState } from '../store/tables.js';
import { type CampaignView, toCampaign } from './campaign.js';
import { recipientsCsv } from './recipients-csv.js';

/** Campaigns newest first (ids are time-ordered), strictly after `afterId`; none for an unknown agent. */
export async function listCampaigns(
  db: Db,
  filters: { state?: CampaignState | undefined; agent_uuid?: string | undefined },
  limit: number,
  afterId?: string,
): Promise<CampaignView[]> {
  let agentId: number | undefined;
  if (filters.agent_uuid) {
    const agent = await agentsRepo.findByUuid(db, filters.agent_uuid);
    if (!agent) return [];
    agentId = agent.id;
  }
  const rows = await campaignsRepo.page(db, { state: filters.state, agent_id: agentId }, limit, afterId);
  const uuids = new Map<number, string>();
  for (const r of rows) {
    if (!uuids.has(r.agent_id))
      uuids.set(r.agent_id, (await agentsRepo.findById(db, r.agent_id))?.uuid ?? '');
  }
  return rows.map((r) => toCampaign(r, uuids.get(r.agent_id) ?? ''));
}

/** Every recipient of the campaign (optionally in one state) as a CSV stream (SPEC §14). */
export async function exportRecipients(
  db: Db,
  campaignId: string,
  state: RecipientState | undefined,
): Promise<ReadableStream<Uint8Array>> {
  if (!(await campaignsRepo.get(db, campaignId))) {
    throw new AppError('not_found', `no campaign with id ${JSON.stringify(campaignId.slice(0, 100))}`);
  }
  return recipientsCsv(db, campaignId, state);
}

/** A campaign's recipients in list order, optionally in one state, after list position `afterIndex`. */
export async function listRecipients(
  db: Db,
  campaignId: string,
  state: RecipientState | undefined,
  limit: number,
  afterIndex?: number,
): Promise<RecipientRow[]> {
  if (!(await campaignsRepo.get(db, campaignId))) {
    throw new AppError('not_found', `no campaign with id ${JSON.stringify(campaignId.slice(0, 100))}`);
  }
  return campaignsRepo.recipientsPage(db, campaignId, state, limit, afterIndex);
}
