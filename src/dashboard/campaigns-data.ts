// What the campaign pages read: the list (newest first) and one campaign with its funnel, failures by
// reason and first recipients. Funnel and failures come from the campaign's detail when the service
// gives them (SPEC §14), else they are derived here from the per-state counts and failed recipients.
import { type CampaignView, toCampaign, toRecipient } from '../campaigns/campaign.js';
import { getCampaign } from '../campaigns/service.js';
import { agentsRepo } from '../store/agents-repo.js';
import { campaignsRepo } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';

export type Recipient = ReturnType<typeof toRecipient>;

export interface Funnel {
  targeted: number;
  skipped_opted_out: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
}

export interface CampaignDetail {
  campaign: CampaignView;
  funnel: Funnel;
  failures: { code: number | null; title: string; count: number }[];
  recipients: Recipient[];
}

export async function campaignList(db: Db, limit = 100): Promise<CampaignView[]> {
  const rows = await campaignsRepo.page(db, {}, limit);
  const uuids = new Map<number, string>();
  for (const r of rows) {
    if (!uuids.has(r.agent_id))
      uuids.set(r.agent_id, (await agentsRepo.findById(db, r.agent_id))?.uuid ?? '');
  }
  return rows.map((r) => toCampaign(r, uuids.get(r.agent_id) ?? ''));
}

/** Each stage counts everyone who reached it (a read message was also delivered and sent). */
export function funnelOf(c: CampaignView): Funnel {
  const k = c.counts;
  return {
    targeted: c.recipients,
    skipped_opted_out: k.skipped_opted_out,
    queued: k.queued,
    sent: k.sent + k.delivered + k.read + k.replied,
    delivered: k.delivered + k.read + k.replied,
    read: k.read + k.replied,
    replied: k.replied,
    failed: k.failed,
  };
}

export async function campaignDetail(db: Db, id: string): Promise<CampaignDetail> {
  const campaign = await getCampaign(db, id);
  const given = campaign as CampaignView & { funnel?: Funnel; failures?: CampaignDetail['failures'] };
  let failures = given.failures;
  if (!failures) {
    const byReason = new Map<string, { code: number | null; title: string; count: number }>();
    for (const r of await campaignsRepo.recipientsPage(db, id, 'failed', 1000)) {
      const key = `${r.error_code}`;
      const entry = byReason.get(key) ?? { code: r.error_code, title: r.error_title ?? 'unknown', count: 0 };
      entry.count += 1;
      byReason.set(key, entry);
    }
    failures = [...byReason.values()].sort((a, b) => b.count - a.count);
  }
  const recipients = (await campaignsRepo.recipientsPage(db, id, undefined, 50)).map(toRecipient);
  return { campaign, funnel: given.funnel ?? funnelOf(campaign), failures, recipients };
}
