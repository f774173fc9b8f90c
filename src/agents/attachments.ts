// Extension attachments as the API shows them (AgentExtensionAttachment), and the question the runtime
// asks before doing anything for an agent: does it have an `active` native-whatsapp attachment?
import { toIso } from '../lib/clock.js';
import { type AttachmentRow, attachmentsRepo } from '../store/attachments-repo.js';
import type { Db } from '../store/db.js';
import type { AgentKind, InstallMode } from '../store/tables.js';
import { requireAgent } from './agents.js';

export interface AgentExtensionAttachment {
  id: number;
  agent_id: number;
  offer_id: number;
  offer_name: string;
  offer_slug: string;
  status: string;
  install_mode: InstallMode;
  billing_model: string;
  revenue_share_percent: number | null;
  upfront_price: number | null;
  notes: string | null;
  created_at: string;
  activated_at: string | null;
}

export function toAttachment(row: AttachmentRow): AgentExtensionAttachment {
  return {
    id: row.id,
    agent_id: row.agent_id,
    offer_id: row.offer_id,
    offer_name: row.offer_name,
    offer_slug: row.offer_slug,
    status: row.status,
    install_mode: row.install_mode,
    billing_model: row.billing_model,
    revenue_share_percent: row.revenue_share_percent,
    upfront_price: row.upfront_price,
    notes: row.notes,
    created_at: toIso(row.created_at),
    activated_at: row.activated_at === null ? null : toIso(row.activated_at),
  };
}

/** Attachments of one agent, looked up under its kind's path (a private id under shared is 404). */
export async function listAttachments(
  db: Db,
  agentId: string,
  kind: AgentKind,
): Promise<AgentExtensionAttachment[]> {
  const agent = await requireAgent(db, agentId, kind);
  return (await attachmentsRepo.listForAgent(db, agent.id)).map(toAttachment);
}

/** The agent's native-whatsapp attachment when it is `active`; nothing runs for the agent otherwise. */
export async function activeAttachment(
  db: Db,
  agentId: number,
): Promise<AgentExtensionAttachment | undefined> {
  const row = await attachmentsRepo.findByAgentAndSlug(db, agentId, 'native-whatsapp');
  return row && row.status === 'active' ? toAttachment(row) : undefined;
}
