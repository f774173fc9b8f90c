// Extension attachments as the API shows them (AgentExtensionAttachment), and the question the runtime
// asks before doing anything for an agent: does it have an `active` native-whatsapp attachment?
// Root activates a `queued` attachment and removes one (SPEC §13); both are audited.
import { AppError } from '../lib/app-error.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { agentsRepo } from '../store/agents-repo.js';
import { type AttachmentRow, attachmentsRepo } from '../store/attachments-repo.js';
import { auditRepo } from '../store/audit-repo.js';
import type { Db } from '../store/db.js';
import type { AgentKind, InstallMode } from '../store/tables.js';
import { withTransaction } from '../store/transactions.js';
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

/**
 * Why nothing is sent automatically on a channel, in words an operator can act on, or null when its
 * agent has an active attachment (SPEC §1: installing the extension on the channel's agent is the consent).
 */
export async function automationBlocker(
  db: Db,
  agentId: number | null,
  phoneNumberId: string,
): Promise<string | null> {
  const agent =
    agentId !== null
      ? await agentsRepo.findById(db, agentId)
      : await agentsRepo.findByPhoneNumberId(db, phoneNumberId);
  if (!agent) {
    return `no agent owns channel ${phoneNumberId}: create one with POST /api/agents {"name": ..., "phone_number_id": "${phoneNumberId}"} and install native-whatsapp on it`;
  }
  const row = await attachmentsRepo.findByAgentAndSlug(db, agent.id, 'native-whatsapp');
  if (!row) {
    return `native-whatsapp is not installed on agent ${agent.id}: POST /api/marketplace/extensions/install {"offerId": 1, "agentUuid": "${agent.uuid}", "installMode": "trial"}`;
  }
  if (row.status === 'queued') {
    return `native-whatsapp is queued on agent ${agent.id}, not active: POST /api/agents/${agent.id}/extensions/${row.id}/activate`;
  }
  if (row.status !== 'active') return `native-whatsapp is ${row.status} on agent ${agent.id}`;
  return null;
}

/** The agent's native-whatsapp attachment when it is `active`; nothing runs for the agent otherwise. */
export async function activeAttachment(
  db: Db,
  agentId: number,
): Promise<AgentExtensionAttachment | undefined> {
  const row = await attachmentsRepo.findByAgentAndSlug(db, agentId, 'native-whatsapp');
  return row && row.status === 'active' ? toAttachment(row) : undefined;
}

export interface AttachmentChangeDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
}

export interface AttachmentChange {
  agentId: string;
  attachmentId: string;
  kind: AgentKind;
  /** Token id of the root caller, and the request id, for the audit log. */
  actor: string;
  requestId?: string;
}

/**
 * `queued` becomes `active` (activated_at set): from now on the agent's channel gets automatic
 * replies, follow-ups and campaign sends. Activating an active attachment changes nothing (a retried
 * request); a removed one must be installed again (409).
 */
export async function activateAttachment(
  deps: AttachmentChangeDeps,
  change: AttachmentChange,
): Promise<AgentExtensionAttachment> {
  return changeAttachment(deps, change, 'attachment.activate', async (trx, row, now) => {
    if (row.status === 'active') return false;
    if (row.status !== 'queued') {
      throw new AppError(
        'invalid_state',
        `attachment ${row.id} is ${row.status}; only a queued attachment can be activated (install it again after removal)`,
        { status: row.status },
      );
    }
    return attachmentsRepo.changeStatus(
      trx,
      row.id,
      ['queued'],
      { status: 'active', activated_at: now },
      now,
    );
  });
}

/**
 * The attachment becomes `removed`: nothing is sent automatically on the agent's channel any more
 * (every automatic path asks activeAttachment). Removing a removed attachment changes nothing.
 */
export async function removeAttachment(
  deps: AttachmentChangeDeps,
  change: AttachmentChange,
): Promise<AgentExtensionAttachment> {
  return changeAttachment(deps, change, 'attachment.remove', async (trx, row, now) => {
    if (row.status === 'removed') return false;
    return attachmentsRepo.changeStatus(trx, row.id, [row.status], { status: 'removed' }, now);
  });
}

/** Looks the attachment up under its agent (404 otherwise), applies `apply`, audits what it did. */
async function changeAttachment(
  deps: AttachmentChangeDeps,
  change: AttachmentChange,
  action: string,
  apply: (trx: Db, row: AttachmentRow, now: number) => Promise<boolean>,
): Promise<AgentExtensionAttachment> {
  return withTransaction(deps.db, async (trx) => {
    const agent = await requireAgent(trx, change.agentId, change.kind);
    const id = /^[1-9]\d{0,15}$/.test(change.attachmentId) ? Number(change.attachmentId) : undefined;
    const row = id === undefined ? undefined : await attachmentsRepo.findById(trx, id);
    if (!row || row.agent_id !== agent.id) {
      throw new AppError(
        'not_found',
        `no attachment with id ${JSON.stringify(change.attachmentId.slice(0, 100))} on agent ${agent.id}`,
      );
    }
    const now = deps.clock.now();
    const changed = await apply(trx, row, now);
    await auditRepo.record(trx, {
      id: deps.ids.next(),
      actor: change.actor,
      action,
      details: JSON.stringify({
        agent_id: agent.id,
        attachment_id: row.id,
        from: row.status,
        changed,
        outcome: changed ? 'changed' : 'unchanged',
        ...(change.requestId ? { request_id: change.requestId } : {}),
      }),
      at: now,
    });
    const after = await attachmentsRepo.findById(trx, row.id);
    if (!after) throw new Error(`attachment ${row.id} vanished inside its own transaction`);
    return toAttachment(after);
  });
}
