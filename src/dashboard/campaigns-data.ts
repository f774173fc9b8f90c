// What the campaign pages read, through the campaigns API's own services: the list (newest first) and
// one campaign's detail (funnel, failures by code, cost, eta) with its first recipients.
import { type CampaignView, toRecipient } from '../campaigns/campaign.js';
import { type CampaignDetail as ApiDetail, getCampaignDetail } from '../campaigns/campaign-detail.js';
import { listCampaigns, listRecipients } from '../campaigns/queries.js';
import type { Config } from '../config/schema.js';
import type { Db } from '../store/db.js';

export type Recipient = ReturnType<typeof toRecipient>;
export type Funnel = ApiDetail['funnel'];

export interface CampaignDetail {
  campaign: ApiDetail;
  recipients: Recipient[];
}

export function campaignList(db: Db, limit = 100): Promise<CampaignView[]> {
  return listCampaigns(db, {}, limit);
}

export async function campaignDetail(
  db: Db,
  config: Config,
  id: string,
  now: number,
): Promise<CampaignDetail> {
  const campaign = await getCampaignDetail(db, config, id, now);
  const recipients = (await listRecipients(db, id, undefined, 50)).map(toRecipient);
  return { campaign, recipients };
}
