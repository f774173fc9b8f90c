// Extension attachments: which marketplace offer is installed on which agent, in which mode.
// Reads join the catalog so every answer carries the offer's name and slug.
import type { Insertable } from 'kysely';
import type { Db } from './db.js';
import type { AgentExtensionAttachmentsTable } from './tables.js';

export type NewAttachmentRow = Insertable<AgentExtensionAttachmentsTable>;

export interface AttachmentRow {
  id: number;
  agent_id: number;
  offer_id: number;
  offer_name: string;
  offer_slug: string;
  status: string;
  install_mode: AgentExtensionAttachmentsTable['install_mode'];
  billing_model: string;
  revenue_share_percent: number | null;
  upfront_price: number | null;
  notes: string | null;
  created_at: number;
  activated_at: number | null;
  updated_at: number;
}

function joined(db: Db) {
  return db
    .selectFrom('agent_extension_attachments as a')
    .innerJoin('marketplace_extensions as m', 'm.id', 'a.offer_id')
    .select([
      'a.id',
      'a.agent_id',
      'a.offer_id',
      'm.name as offer_name',
      'm.slug as offer_slug',
      'a.status',
      'a.install_mode',
      'a.billing_model',
      'a.revenue_share_percent',
      'a.upfront_price',
      'a.notes',
      'a.created_at',
      'a.activated_at',
      'a.updated_at',
    ]);
}

export const attachmentsRepo = Object.freeze({
  async insert(db: Db, row: NewAttachmentRow): Promise<number> {
    const out = await db
      .insertInto('agent_extension_attachments')
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return out.id;
  },

  async findById(db: Db, id: number): Promise<AttachmentRow | undefined> {
    return joined(db).where('a.id', '=', id).executeTakeFirst();
  },

  async findByAgentAndOffer(db: Db, agentId: number, offerId: number): Promise<AttachmentRow | undefined> {
    return joined(db).where('a.agent_id', '=', agentId).where('a.offer_id', '=', offerId).executeTakeFirst();
  },

  async listForAgent(db: Db, agentId: number): Promise<AttachmentRow[]> {
    return joined(db).where('a.agent_id', '=', agentId).orderBy('a.id').execute();
  },

  /** Moves an attachment from one status to another; false when it was not in `from` (nothing changes). */
  async changeStatus(
    db: Db,
    id: number,
    from: string[],
    patch: {
      status: string;
      activated_at?: number;
      install_mode?: AgentExtensionAttachmentsTable['install_mode'];
    },
    now: number,
  ): Promise<boolean> {
    const out = await db
      .updateTable('agent_extension_attachments')
      .set({ ...patch, updated_at: now })
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(out.numUpdatedRows) === 1;
  },

  async findByAgentAndSlug(db: Db, agentId: number, slug: string): Promise<AttachmentRow | undefined> {
    return joined(db).where('a.agent_id', '=', agentId).where('m.slug', '=', slug).executeTakeFirst();
  },
});
