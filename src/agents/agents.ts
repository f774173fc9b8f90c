// Agents (SPEC §8): private and shared agents with a numeric id and a uuid; an agent with a
// phone_number_id owns that channel's conversations, so a channel has at most one agent.
import { AppError } from '../lib/app-error.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { RandomSource } from '../lib/ids.js';
import { type AgentRow, agentsRepo } from '../store/agents-repo.js';
import type { Db } from '../store/db.js';
import type { AgentKind } from '../store/tables.js';

export interface Agent {
  id: number;
  uuid: string;
  name: string;
  kind: AgentKind;
  phone_number_id: string | null;
  created_at: string;
}

export function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    uuid: row.uuid,
    name: row.name,
    kind: row.kind,
    phone_number_id: row.phone_number_id,
    created_at: toIso(row.created_at),
  };
}

/** A random (version 4) UUID from the injected random source. */
export function newUuid(random: RandomSource): string {
  const b = Uint8Array.from(random(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface CreateAgentInput {
  kind: AgentKind;
  name: string;
  uuid?: string;
  phone_number_id?: string | null;
}

export async function createAgent(
  deps: { db: Db; clock: Clock; random: RandomSource },
  input: CreateAgentInput,
): Promise<Agent> {
  // UUIDs compare case-insensitively; storing one spelling keeps lookups and uniqueness simple.
  const uuid = (input.uuid ?? newUuid(deps.random)).toLowerCase();
  const phone = input.phone_number_id ?? null;
  return deps.db.transaction().execute(async (trx) => {
    if (await agentsRepo.findByUuid(trx, uuid)) {
      throw new AppError('conflict', `an agent with uuid ${uuid} already exists`, [
        { path: 'uuid', message: 'is already used by another agent' },
      ]);
    }
    if (phone !== null) {
      const owner = await agentsRepo.findByPhoneNumberId(trx, phone);
      if (owner) {
        throw new AppError(
          'conflict',
          `phone_number_id ${phone} is already owned by agent ${owner.id}; a channel has one agent`,
          [{ path: 'phone_number_id', message: `is owned by agent ${owner.id}` }],
        );
      }
    }
    const row = await agentsRepo.insert(trx, {
      uuid,
      name: input.name,
      kind: input.kind,
      phone_number_id: phone,
      created_at: deps.clock.now(),
    });
    return toAgent(row);
  });
}

/** Agents of one kind in creation (id) order, after `afterId` (exclusive). */
export async function listAgents(
  db: Db,
  opts: { kind: AgentKind; limit: number; afterId?: number | undefined },
): Promise<Agent[]> {
  const rows = await agentsRepo.page(db, { kind: opts.kind, afterId: opts.afterId, limit: opts.limit });
  return rows.map(toAgent);
}

/** The agent with this id and kind, from a path parameter; anything else is 404. */
export async function requireAgent(db: Db, id: string, kind: AgentKind): Promise<AgentRow> {
  const row = /^[1-9]\d{0,15}$/.test(id) ? await agentsRepo.findById(db, Number(id)) : undefined;
  if (!row || row.kind !== kind) {
    throw new AppError(
      'not_found',
      `no ${kind === 'shared' ? 'shared ' : ''}agent with id ${JSON.stringify(id)}`,
    );
  }
  return row;
}

export async function findAgentByUuid(db: Db, uuid: string): Promise<AgentRow | undefined> {
  return agentsRepo.findByUuid(db, uuid.toLowerCase());
}

/** The agent that owns a channel's conversations, if one was created with that phone_number_id. */
export async function agentForPhoneNumber(db: Db, phoneNumberId: string): Promise<AgentRow | undefined> {
  return agentsRepo.findByPhoneNumberId(db, phoneNumberId);
}
