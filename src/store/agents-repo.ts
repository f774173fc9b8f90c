// Agents (private and shared): the numeric id of the seed's `agent_id`, the `uuid` of its
// `agent_uuid`, and the channel (phone_number_id) whose conversations the agent owns.
import type { Insertable, Selectable } from 'kysely';
import type { Db } from './db.js';
import type { AgentKind, AgentsTable } from './tables.js';

export type AgentRow = Selectable<AgentsTable>;
export type NewAgentRow = Insertable<AgentsTable>;

export const agentsRepo = Object.freeze({
  /** Inserts and returns the stored row with its new id. */
  async insert(db: Db, row: NewAgentRow): Promise<AgentRow> {
    return db.insertInto('agents').values(row).returningAll().executeTakeFirstOrThrow();
  },

  async findById(db: Db, id: number): Promise<AgentRow | undefined> {
    return db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findByUuid(db: Db, uuid: string): Promise<AgentRow | undefined> {
    return db.selectFrom('agents').selectAll().where('uuid', '=', uuid).executeTakeFirst();
  },

  async findByPhoneNumberId(db: Db, phoneNumberId: string): Promise<AgentRow | undefined> {
    return db
      .selectFrom('agents')
      .selectAll()
      .where('phone_number_id', '=', phoneNumberId)
      .executeTakeFirst();
  },

  /** Agents of one kind in id order, after `afterId` (exclusive). */
  async page(db: Db, opts: { kind: AgentKind; afterId?: number; limit: number }): Promise<AgentRow[]> {
    let q = db.selectFrom('agents').selectAll().where('kind', '=', opts.kind);
    if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId);
    return q.orderBy('id').limit(opts.limit).execute();
  },

  /** Every business number an agent owns (few rows). */
  async phoneNumberIds(db: Db): Promise<string[]> {
    const rows = await db
      .selectFrom('agents')
      .select('phone_number_id')
      .distinct()
      .where('phone_number_id', 'is not', null)
      .execute();
    return rows.map((r) => r.phone_number_id as string);
  },
});
