// The domain event log (SPEC §11): append in the caller's transaction, read in sequence order (the
// delivery fan-out, the live stream, replay), prune by age.
import { type Compilable, type Selectable, sql } from 'kysely';
import type { Db } from './db.js';
import { engineOf } from './dialect.js';
import { preparedQuery } from './prepared-query.js';
import type { DomainEventsTable } from './tables.js';

export type EventRow = Selectable<DomainEventsTable>;

// Both run for every event the inbox records (prepared-query.ts).
const appendEvent = preparedQuery(
  7,
  (
    db,
    id: string,
    type: string,
    internal: number,
    occurred_at: number,
    agent_uuid: string | null,
    conversation_id: string | null,
    data: string,
  ): Compilable<{ seq: number }> => {
    if (engineOf(db) === 'sqlite') {
      return db
        .insertInto('domain_events')
        .values({ id, type, internal, occurred_at, agent_uuid, conversation_id, data })
        .returning('seq');
    }
    // PostgreSQL: the transaction gets its id (the materialised CTE runs first) before the identity
    // default takes the seq, which the readers' commit horizon relies on (events/commit-horizon.ts).
    const raw = sql<{ seq: number }>`with txn as materialized (select pg_current_xact_id() as xid)
      insert into domain_events (id, type, internal, occurred_at, agent_uuid, conversation_id, data)
      select ${id}::text, ${type}::text, ${internal}::integer, ${occurred_at}::bigint,
        ${agent_uuid}::text, ${conversation_id}::text, ${data}::text
      from txn returning seq`;
    return { compile: () => raw.compile(db) };
  },
);
const agentUuidOf = preparedQuery(1, (db, conversationId: string) =>
  db
    .selectFrom('conversations')
    .leftJoin('agents', 'agents.id', 'conversations.agent_id')
    .select('agents.uuid')
    .where('conversations.id', '=', conversationId),
);

export const eventsRepo = Object.freeze({
  /** Appends one event; returns its sequence number. */
  async append(db: Db, row: Omit<EventRow, 'seq'>): Promise<number> {
    const r = await appendEvent(
      db,
      row.id,
      row.type,
      row.internal,
      row.occurred_at,
      row.agent_uuid,
      row.conversation_id,
      row.data,
    );
    return (r.rows[0] as { seq: number }).seq;
  },

  /** The agent owning a conversation, by uuid (null when no agent owns its channel). */
  async agentUuidOfConversation(db: Db, conversationId: string): Promise<string | null> {
    const r = await agentUuidOf(db, conversationId);
    return r.rows[0]?.uuid ?? null;
  },

  /** Public events after `afterSeq`, in sequence order, optionally of some types / one agent. */
  async after(
    db: Db,
    afterSeq: number,
    limit: number,
    filter: { types?: readonly string[]; agent_uuid?: string } = {},
    upTo?: number,
  ): Promise<EventRow[]> {
    let q = db.selectFrom('domain_events').selectAll().where('seq', '>', afterSeq).where('internal', '=', 0);
    if (upTo !== undefined) q = q.where('seq', '<=', upTo);
    if (filter.types && filter.types.length > 0) q = q.where('type', 'in', filter.types);
    if (filter.agent_uuid !== undefined) q = q.where('agent_uuid', '=', filter.agent_uuid);
    return q.orderBy('seq').limit(limit).execute();
  },

  async byId(db: Db, id: string): Promise<EventRow | undefined> {
    return db.selectFrom('domain_events').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async byIds(db: Db, ids: readonly string[]): Promise<EventRow[]> {
    if (ids.length === 0) return [];
    return db
      .selectFrom('domain_events')
      .selectAll()
      .where('id', 'in', ids)
      .where('internal', '=', 0)
      .orderBy('seq')
      .execute();
  },

  /** The first public event at or after `since`, by sequence (replay's starting point). */
  async firstSeqSince(db: Db, since: number): Promise<number | null> {
    const r = await db
      .selectFrom('domain_events')
      .select('seq')
      .where('occurred_at', '>=', since)
      .orderBy('occurred_at')
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    return r?.seq ?? null;
  },

  /**
   * PostgreSQL only (events/commit-horizon.ts), one statement: the highest seq this snapshot sees,
   * the snapshot's xmin (every transaction id below it has ended) and, when `mark`, a transaction id
   * taken after the snapshot (above the id of every transaction that had begun writing before).
   */
  async horizonProbe(db: Db, mark = true): Promise<{ maxSeq: number; xmin: bigint; mark: bigint }> {
    const r = await sql<{ max_seq: number | bigint; xmin: string; mark: string | null }>`select
        coalesce(max(seq), 0) as max_seq,
        pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
        ${mark ? sql`pg_current_xact_id()::text` : sql`null`} as mark
      from domain_events`.execute(db);
    const row = r.rows[0] as { max_seq: number | bigint; xmin: string; mark: string | null };
    return { maxSeq: Number(row.max_seq), xmin: BigInt(row.xmin), mark: BigInt(row.mark ?? 0) };
  },

  /** The highest sequence so far (0 when the log is empty). */
  async lastSeq(db: Db): Promise<number> {
    const r = await db
      .selectFrom('domain_events')
      .select('seq')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r?.seq ?? 0;
  },

  async oldest(db: Db): Promise<EventRow | undefined> {
    return db.selectFrom('domain_events').selectAll().orderBy('seq').limit(1).executeTakeFirst();
  },

  /** Housekeeping: drops events older than `before`, about `limit` at a time; returns how many. */
  async prune(db: Db, before: number, limit: number): Promise<number> {
    const rows = await db
      .selectFrom('domain_events')
      .select('seq')
      .where('occurred_at', '<', before)
      .orderBy('occurred_at')
      .limit(limit)
      .execute();
    if (rows.length === 0) return 0;
    const r = await db
      .deleteFrom('domain_events')
      .where(
        'seq',
        'in',
        rows.map((x) => x.seq),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  },
});
