// recordEvent(): the one way a state change enters the domain event log (SPEC §11), called by the
// service that makes the change, inside its transaction (no event for a rolled-back change, no change
// without its event). The in-process projection (insight rollups) runs here in the same transaction;
// subscriptions and the live stream read the log afterwards, in sequence order.

import { applyToRollups } from '../insights/insight-rollups.js';
import { toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { agentsRepo } from '../store/agents-repo.js';
import type { Db } from '../store/db.js';
import { eventsRepo } from '../store/events-repo.js';
import { type EventEnvelope, type EventType, isInternalEventType } from './catalog.js';

export interface NewEvent {
  type: EventType;
  /** The conversation the change belongs to; its events reach a subscriber in order. */
  conversation_id?: string | null;
  /** Left out: the agent owning `conversation_id` (null without one). */
  agent_uuid?: string | null;
  /** Default: ctx.now. */
  occurred_at?: number;
  /** Fields are additive (SPEC §11): never rename or remove one. */
  data: Record<string, unknown>;
}

export interface RecordedEvent {
  seq: number;
  id: string;
  type: EventType;
  internal: boolean;
  occurred_at: number;
  agent_uuid: string | null;
  conversation_id: string | null;
  data: Record<string, unknown>;
}

export interface EventContext {
  ids: IdSource;
  now: number;
}

const listeners = new Set<() => void>();
let notifyQueued = false;

/**
 * Called on the turn of the event loop after events were appended (once, however many the turn
 * appended: an inbox slice appends hundreds), by which time their transaction has usually ended.
 * Lets the delivery worker and the live stream look sooner than their next poll; a missed call only
 * costs one poll interval.
 */
export function onEventAppended(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notifyAppended(): void {
  if (notifyQueued || listeners.size === 0) return;
  notifyQueued = true;
  setImmediate(() => {
    notifyQueued = false;
    for (const l of listeners) l();
  });
}

export async function recordEvent(trx: Db, event: NewEvent, ctx: EventContext): Promise<RecordedEvent> {
  const internal = isInternalEventType(event.type);
  const conversationId = event.conversation_id ?? null;
  let agentUuid = event.agent_uuid ?? null;
  if (event.agent_uuid === undefined && conversationId !== null && !internal) {
    agentUuid = await agentUuidOf(trx, conversationId);
  }
  const recorded: Omit<RecordedEvent, 'seq'> = {
    id: `evt_${ctx.ids.next()}`,
    type: event.type,
    internal,
    occurred_at: event.occurred_at ?? ctx.now,
    agent_uuid: agentUuid,
    conversation_id: conversationId,
    data: event.data,
  };
  const row = {
    id: recorded.id,
    type: recorded.type,
    internal: internal ? 1 : 0,
    occurred_at: recorded.occurred_at,
    agent_uuid: recorded.agent_uuid,
    conversation_id: recorded.conversation_id,
    data: JSON.stringify(recorded.data),
  };
  const batch = batches.get(trx);
  const out = { seq: 0, ...recorded };
  if (batch) batch.push({ row, out });
  else out.seq = await eventsRepo.append(trx, row);
  await applyToRollups(trx, out, ctx);
  notifyAppended();
  return out;
}

// Events recorded inside recordingTogether(), by transaction: appended when it ends.
interface Pending {
  row: Parameters<typeof eventsRepo.append>[1];
  out: RecordedEvent;
}
const batches = new WeakMap<Db, Pending[]>();

/**
 * Runs `fn` with the events it records appended together when it returns: one INSERT for all of
 * them (an inbound message records two or three) instead of one each, in the order recorded, so
 * their seqs are the ones separate appends would have taken. Until then a recorded event's `seq`
 * is 0 (it is set when appended) and the log does not show it to this transaction; `fn` must not
 * read the log. The rollups are applied at once, as without. When `fn` throws nothing is appended
 * (the caller's transaction or savepoint undoes its changes). Nested calls join the outer one.
 */
export async function recordingTogether<T>(trx: Db, fn: () => Promise<T>): Promise<T> {
  if (!trx.isTransaction || batches.has(trx)) return fn();
  const pending: Pending[] = [];
  batches.set(trx, pending);
  let result: T;
  try {
    result = await fn();
  } finally {
    batches.delete(trx);
  }
  if (pending.length > 0) {
    const seqs = await eventsRepo.appendMany(
      trx,
      pending.map((p) => p.row),
    );
    pending.forEach((p, i) => {
      p.out.seq = seqs[i] as number;
    });
  }
  return result;
}

// The owning agent of a conversation, remembered for the rest of its transaction: one inbound message
// records two or three events of one conversation, and the inbox processor's slice many more. A
// conversation's agent is set when it is inserted and never changed, so an answer read in the
// transaction stays true in it (an id whose insert a savepoint undid is never used again).
// Agents' uuids by id are remembered the same way (a slice's conversations mostly share a few agents).
interface Known {
  conversations: Map<string, string | null>;
  agents: Map<number, string | null>;
}
const knownInTransaction = new WeakMap<Db, Known>();

function known(trx: Db): Known {
  let k = knownInTransaction.get(trx);
  if (!k) {
    k = { conversations: new Map(), agents: new Map() };
    knownInTransaction.set(trx, k);
  }
  return k;
}

async function agentUuidOf(trx: Db, conversationId: string): Promise<string | null> {
  if (!trx.isTransaction) return eventsRepo.agentUuidOfConversation(trx, conversationId);
  const { conversations } = known(trx);
  let uuid = conversations.get(conversationId);
  if (uuid === undefined) {
    uuid = await eventsRepo.agentUuidOfConversation(trx, conversationId);
    conversations.set(conversationId, uuid);
  }
  return uuid;
}

/**
 * Tells recordEvent which agent owns a conversation, from its row as read or written in this
 * transaction (conversations/engine.ts), so its events need no lookup of their own.
 */
export async function noteConversationAgent(
  trx: Db,
  conversationId: string,
  agentId: number | null,
): Promise<void> {
  if (!trx.isTransaction) return;
  const { conversations, agents } = known(trx);
  if (conversations.has(conversationId)) return;
  let uuid: string | null = null;
  if (agentId !== null) {
    const cached = agents.get(agentId);
    if (cached !== undefined) uuid = cached;
    else {
      uuid = (await agentsRepo.findById(trx, agentId))?.uuid ?? null;
      agents.set(agentId, uuid);
    }
  }
  conversations.set(conversationId, uuid);
}

/** The envelope of a stored event, as subscribers and the stream see it. */
export function toEnvelope(row: {
  id: string;
  type: string;
  occurred_at: number;
  agent_uuid: string | null;
  conversation_id: string | null;
  data: string | Record<string, unknown>;
}): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    occurred_at: toIso(row.occurred_at),
    agent_uuid: row.agent_uuid,
    conversation_id: row.conversation_id,
    data: typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>) : row.data,
  };
}
