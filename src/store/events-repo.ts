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
type NewEventRow = Omit<EventRow, 'seq'>;
const EVENT_COLUMNS = [
  'id',
  'type',
  'internal',
  'occurred_at',
  'agent_uuid',
  'conversation_id',
  'data',
] as const;
/** The most events one statement appends; more go in several (SQLite caps bound parameters). */
const MAX_EVENTS_PER_INSERT = 16;

/**
 * Several events in one statement, in the given order (their seqs follow it: SQLite numbers the
 * rows of a VALUES list in order, PostgreSQL takes the identity in the select's `ord` order).
 * Answers each event's seq by id (the order of RETURNING rows is not defined).
 */
function appendEventsQuery(n: number) {
  return preparedQuery(
    n * EVENT_COLUMNS.length,
    (db, ...args: unknown[]): Compilable<{ id: string; seq: number }> => {
      const rows = Array.from({ length: n }, (_, i) =>
        Object.fromEntries(EVENT_COLUMNS.map((c, j) => [c, args[i * EVENT_COLUMNS.length + j]])),
      ) as unknown as NewEventRow[];
      if (engineOf(db) === 'sqlite') {
        return db.insertInto('domain_events').values(rows).returning(['id', 'seq']);
      }
      // PostgreSQL: as appendEvent, the transaction id is taken (materialised CTE) before any seq.
      const values = sql.join(
        rows.map(
          (r, i) =>
            sql`(${sql.lit(i)}, ${r.id}::text, ${r.type}::text, ${r.internal}::integer, ${r.occurred_at}::bigint,
            ${r.agent_uuid}::text, ${r.conversation_id}::text, ${r.data}::text)`,
        ),
      );
      const raw = sql<{
        id: string;
        seq: number;
      }>`with txn as materialized (select pg_current_xact_id() as xid)
      insert into domain_events (id, type, internal, occurred_at, agent_uuid, conversation_id, data)
      select v.id, v.type, v.internal, v.occurred_at, v.agent_uuid, v.conversation_id, v.data
      from txn cross join (values ${values}) as v(ord, id, type, internal, occurred_at, agent_uuid, conversation_id, data)
      order by v.ord
      returning id, seq`;
      return { compile: () => raw.compile(db) };
    },
  );
}
const appendEventsOf = new Map<number, ReturnType<typeof appendEventsQuery>>();

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

  /** Appends events in order, one statement per MAX_EVENTS_PER_INSERT; returns their seqs in order. */
  async appendMany(db: Db, rows: readonly NewEventRow[]): Promise<number[]> {
    const seqs: number[] = [];
    for (let i = 0; i < rows.length; i += MAX_EVENTS_PER_INSERT) {
      const chunk = rows.slice(i, i + MAX_EVENTS_PER_INSERT);
      if (chunk.length === 1) {
        seqs.push(await eventsRepo.append(db, chunk[0] as NewEventRow));
        continue;
      }
      let query = appendEventsOf.get(chunk.length);
      if (!query) {
        query = appendEventsQuery(chunk.length);
        appendEventsOf.set(chunk.length, query);
      }
      const args = chunk.flatMap((r) => EVENT_COLUMNS.map((c) => r[c]));
      const r = await query(db, ...args);
      const byId = new Map(r.rows.map((x) => [x.id, Number(x.seq)]));
      for (const row of chunk) seqs.push(byId.get(row.id) as number);
    }
    return seqs;
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
