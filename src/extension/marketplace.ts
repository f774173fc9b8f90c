// The marketplace catalog and installation (SPEC §8): catalog rows become MarketplaceExtensionRecord,
// and installing an offer on an agent creates its attachment once; installing again returns it.

import { type AgentExtensionAttachment, toAttachment } from '../agents/attachments.js';
import { AppError } from '../lib/app-error.js';
import { type Clock, toIso } from '../lib/clock.js';
import { agentsRepo } from '../store/agents-repo.js';
import { attachmentsRepo } from '../store/attachments-repo.js';
import type { Db } from '../store/db.js';
import { type MarketplaceRow, marketplaceRepo } from '../store/marketplace-repo.js';
import type { InstallMode } from '../store/tables.js';

export const NATIVE_WHATSAPP_SLUG = 'native-whatsapp';

export interface MarketplaceExtensionRecord {
  id: number;
  slug: string;
  name: string;
  version: string;
  status: 'active' | 'published' | 'beta' | 'deprecated';
  description: string;
  author: string | null;
  extension_type: string;
  platform: string;
  capabilities: string[];
  required_permissions: string[];
  documentation_url: string | null;
  pricing_model: 'free' | 'one_time' | 'subscription' | 'revenue_share' | null;
  price: number | null;
  revenue_share_percent: number | null;
  is_official: boolean;
  install_count: number;
  rating: number | null;
  review_count: number;
  created_at: string | null;
  updated_at: string | null;
}

/** The one mapping from a catalog row to its API shape; our own record shows the running version. */
export function toMarketplaceRecord(row: MarketplaceRow, runningVersion: string): MarketplaceExtensionRecord {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    version: row.slug === NATIVE_WHATSAPP_SLUG ? runningVersion : row.version,
    status: row.status,
    description: row.description,
    author: row.author,
    extension_type: row.extension_type,
    platform: row.platform,
    capabilities: JSON.parse(row.capabilities) as string[],
    required_permissions: JSON.parse(row.required_permissions) as string[],
    documentation_url: row.documentation_url,
    pricing_model: row.pricing_model,
    price: row.price,
    revenue_share_percent: row.revenue_share_percent,
    is_official: row.is_official === 1,
    install_count: row.install_count,
    rating: row.rating,
    review_count: row.review_count,
    created_at: row.created_at === null ? null : toIso(row.created_at),
    updated_at: row.updated_at === null ? null : toIso(row.updated_at),
  };
}

/** On start: stamps the shipped record's times and records the running version once it changes. */
export async function stampCatalog(db: Db, version: string, now: number): Promise<void> {
  await marketplaceRepo.stamp(db, NATIVE_WHATSAPP_SLUG, version, now);
}

export async function listExtensions(db: Db, version: string): Promise<MarketplaceExtensionRecord[]> {
  return (await marketplaceRepo.list(db)).map((r) => toMarketplaceRecord(r, version));
}

/** `id` as it came in the path: anything but a positive integer names no record (404, not 400). */
export async function getExtension(db: Db, id: string, version: string): Promise<MarketplaceExtensionRecord> {
  const row = /^[1-9]\d{0,15}$/.test(id) ? await marketplaceRepo.findById(db, Number(id)) : undefined;
  if (!row) throw new AppError('not_found', `no marketplace extension with id ${JSON.stringify(id)}`);
  return toMarketplaceRecord(row, version);
}

export interface InstallInput {
  offerId: number;
  agentUuid: string;
  installMode: InstallMode;
  notes?: string | null;
}

export interface InstallResult {
  attachment: AgentExtensionAttachment;
  /** False when the offer was already installed on the agent (the existing attachment, unchanged). */
  created: boolean;
}

/**
 * Installs an offer on an agent. Idempotent per (agent, offer): a second install returns the first
 * attachment unchanged, whatever its mode or notes, so a retried request never changes state; a
 * different mode is not a mode change (the answer shows the attachment's actual install_mode).
 * A removed attachment is the exception: installing re-opens it (201).
 */
export async function installExtension(
  deps: { db: Db; clock: Clock },
  input: InstallInput,
): Promise<InstallResult> {
  return deps.db.transaction().execute(async (trx) => {
    const offer = await marketplaceRepo.findById(trx, input.offerId);
    if (!offer) throw new AppError('not_found', `no marketplace extension with id ${input.offerId}`);
    const agent = await agentsRepo.findByUuid(trx, input.agentUuid.toLowerCase());
    if (!agent) throw new AppError('not_found', `no agent with uuid ${input.agentUuid}`);

    const existing = await attachmentsRepo.findByAgentAndOffer(trx, agent.id, offer.id);
    const now = deps.clock.now();
    const queued = input.installMode === 'queued';
    if (existing && existing.status === 'removed') {
      // Installing again after removal re-opens the same attachment in the mode asked for now.
      await attachmentsRepo.changeStatus(
        trx,
        existing.id,
        ['removed'],
        queued
          ? { status: 'queued', install_mode: input.installMode }
          : { status: 'active', install_mode: input.installMode, activated_at: now },
        now,
      );
      const reopened = await attachmentsRepo.findById(trx, existing.id);
      if (!reopened) throw new Error(`attachment ${existing.id} vanished inside its own transaction`);
      return { attachment: toAttachment(reopened), created: true };
    }
    if (existing) return { attachment: toAttachment(existing), created: false };

    const id = await attachmentsRepo.insert(trx, {
      agent_id: agent.id,
      offer_id: offer.id,
      status: queued ? 'queued' : 'active',
      install_mode: input.installMode,
      billing_model: billingModel(offer, input.installMode),
      revenue_share_percent: offer.revenue_share_percent,
      upfront_price: input.installMode === 'purchase' ? offer.price : null,
      notes: input.notes ?? null,
      created_at: now,
      activated_at: queued ? null : now,
      updated_at: now,
    });
    await marketplaceRepo.incrementInstallCount(trx, offer.id, now);
    const created = await attachmentsRepo.findById(trx, id);
    if (!created) throw new Error(`attachment ${id} vanished inside its own transaction`);
    return { attachment: toAttachment(created), created: true };
  });
}

/** A trial is billed as a trial whatever the offer's model; otherwise the offer's pricing model. */
function billingModel(offer: MarketplaceRow, mode: InstallMode): string {
  if (mode === 'trial') return 'trial';
  return offer.pricing_model ?? 'free';
}
