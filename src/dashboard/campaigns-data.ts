// What the campaign pages read, through the campaigns API's own services: the list (newest first) and
// one campaign's detail (funnel, failures by code, cost, eta) with its first recipients.

import { z } from 'zod';
import { type CampaignView, toRecipient } from '../campaigns/campaign.js';
import { type CampaignDetail as ApiDetail, getCampaignDetail } from '../campaigns/campaign-detail.js';
import { listCampaigns, listRecipients } from '../campaigns/queries.js';
import type { Config } from '../config/schema.js';
import { cursorId, type KeysetPage, keysetPage } from '../http/cursor.js';
import type { Db } from '../store/db.js';

export type Recipient = ReturnType<typeof toRecipient>;
export type Funnel = ApiDetail['funnel'];

export interface CampaignDetail {
  campaign: ApiDetail;
  recipients: Recipient[];
}

/** One page of campaigns, newest first, as the campaigns API pages them. */
export function campaignList(db: Db, cursor?: string, limit = 50): Promise<KeysetPage<CampaignView>> {
  return keysetPage(
    { cursor, limit },
    z.object({ id: cursorId }),
    (n, after) => listCampaigns(db, {}, n, after?.id),
    (v) => ({ id: v.id }),
  );
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
