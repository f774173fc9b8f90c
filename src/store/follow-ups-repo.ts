// Follow-up jobs (SPEC §6): one row per planned follow-up with its due time and state. The unique key
// (conversation_id, rule_id, silence_from) makes "once per silence" a database fact; the tick claims
// due rows in due order in one statement with its instance as owner and a lease (on PostgreSQL the
// claim's select is FOR UPDATE SKIP LOCKED, SPEC §10), then decides each in a transaction that holds
// only the rows still its own. A claimed row whose lease ran out before it reached the outbox (its
// instance crashed) is taken over by the next tick of any instance.
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Db } from './db.js';
import { claimDue, forUpdate, type QueueWhere, releaseLeases } from './locking.js';
import { preparedQuery } from './prepared-query.js';
import type { Database, FollowUpState, FollowUpsTable } from './tables.js';

export type FollowUpRow = FollowUpsTable;

/** A claimed follow-up with what the tick needs to decide about it, read in the same query. */
export interface DueFollowUp extends FollowUpRow {
  queue_state: string;
  conversation_class: string;
  phone_number_id: string;
  contact_id: string;
  agent_id: number | null;
  last_customer_message_at: number | null;
  window_expires_at: number | null;
  wa_id: string | null;
  user_id: string | null;
  opted_out_at: number | null;
}

/** States in which a follow-up may still go out. */
const LIVE: FollowUpState[] = ['scheduled', 'claimed'];
// Every customer message that ends a silence looks for live follow-ups (prepared-query.ts).
const liveOf = preparedQuery(1, (db, conversationId: string) =>
  db
    .selectFrom('follow_ups')
    .select(['id', 'outbox_id'])
    .where('conversation_id', '=', conversationId)
    .where('state', 'in', LIVE),
);

const claimedNotSent: QueueWhere<'follow_ups'> = (eb) =>
  eb.and([eb('state', '=', 'claimed'), eb('outbox_id', 'is', null)]);

/** A claim not yet handed to the outbox goes back to `scheduled`, due as it was. */
const backToScheduled = (now: number) => ({
  set: { state: 'scheduled' as const, updated_at: now },
  guard: claimedNotSent,
});

/**
 * A conversation's follow-ups sent in [since, at] that have not earned a reply yet: what markReplied
 * looks for, and what the inbound read asks after (inbound-hints.ts), so the two cannot drift apart.
 */
export const unrepliedSendsOf =
  (conversationId: string | Expression<string>, since: number, at: number) =>
  (eb: ExpressionBuilder<Database, 'follow_ups'>): Expression<SqlBool> =>
    eb.and([
      eb('follow_ups.conversation_id', '=', conversationId),
      eb('follow_ups.state', '=', 'sent'),
      eb('follow_ups.updated_at', '>=', since),
      eb('follow_ups.updated_at', '<=', at),
      eb('follow_ups.replied_at', 'is', null),
    ]);

// Runs for a customer message unless the inbound read found no such send (prepared-query.ts).
const latestUnrepliedSend = preparedQuery(3, (db, conversationId: string, since: number, at: number) =>
  db
    .selectFrom('follow_ups')
    .select('id')
    .where(unrepliedSendsOf(conversationId, since, at))
    .orderBy('updated_at', 'desc')
    .limit(1),
);

export const followUpsRepo = Object.freeze({
  /** Inserts unless this rule already has a row for this silence. True when inserted. */
  async insertIfNew(db: Db, row: FollowUpRow): Promise<boolean> {
    const res = await db
      .insertInto('follow_ups')
      .values(row)
      .onConflict((oc) => oc.columns(['conversation_id', 'rule_id', 'silence_from']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async get(db: Db, id: string): Promise<FollowUpRow | undefined> {
    return db.selectFrom('follow_ups').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /**
   * Follow-ups claimed by an instance whose lease ran out before it handed them to the outbox (it
   * crashed mid-tick) are scheduled again, due as they were. Live leases are never touched.
   */
  async releaseExpiredClaims(db: Db, now: number): Promise<number> {
    return releaseLeases(db, { table: 'follow_ups', expiredBy: now, ...backToScheduled(now) });
  },

  /** On start: this instance's claims from a previous run (killed mid-tick) are scheduled again. */
  async releaseOwnClaims(db: Db, owner: string, now: number): Promise<number> {
    return releaseLeases(db, { table: 'follow_ups', owner, ...backToScheduled(now) });
  },

  /**
   * Claims up to `limit` scheduled follow-ups due at `now`, in due order, for `owner` until
   * `leaseUntil`, in one statement. Returns their ids in due order.
   */
  async claimDue(db: Db, owner: string, now: number, leaseUntil: number, limit: number): Promise<string[]> {
    const rows = await claimDue(db, {
      table: 'follow_ups',
      owner,
      now,
      leaseUntil,
      limit,
      due: (eb) => eb.and([eb('state', '=', 'scheduled'), eb('due_at', '<=', now)]),
      // A scheduled follow-up has no lease: its claim moves it to `claimed`, and expired claims go
      // back by releaseExpiredClaims.
      leaseFree: false,
      order: ['due_at', 'id'],
      set: () => ({ state: 'claimed', updated_at: now }),
      guard: (eb) => eb('state', '=', 'scheduled'),
    });
    return rows.map((r) => r.id);
  },

  /**
   * Of the follow-ups `owner` claimed, those it still holds, joined with their conversation and
   * contact, in due order; locked for the deciding transaction on PostgreSQL (the follow-up rows only).
   */
  async heldDue(db: Db, ids: string[], owner: string): Promise<DueFollowUp[]> {
    if (ids.length === 0) return [];
    const q = db
      .selectFrom('follow_ups as f')
      .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
      .innerJoin('contacts as k', 'k.id', 'c.contact_id')
      .selectAll('f')
      .select([
        'c.queue_state',
        'c.conversation_class',
        'c.phone_number_id',
        'c.contact_id',
        'c.agent_id',
        'c.last_customer_message_at',
        'c.window_expires_at',
        'k.wa_id',
        'k.user_id',
        'k.opted_out_at',
      ])
      .where('f.id', 'in', ids)
      .where('f.state', '=', 'claimed')
      .where('f.lease_owner', '=', owner)
      .orderBy('f.due_at')
      .orderBy('f.id');
    return forUpdate(db, q, 'f').execute() as Promise<DueFollowUp[]>;
  },

  async update(
    db: Db,
    id: string,
    patch: Partial<Omit<FollowUpRow, 'id' | 'conversation_id' | 'rule_id' | 'silence_from'>>,
  ): Promise<void> {
    await db.updateTable('follow_ups').set(patch).where('id', '=', id).execute();
  },

  /**
   * Cancels every follow-up of the conversation that could still go out; returns the outbox ids of
   * those already handed to the outbox, so the caller can cancel them there while still queued.
   */
  async cancelLive(db: Db, conversationId: string, reason: string, now: number): Promise<string[]> {
    const live = (await liveOf(db, conversationId)).rows;
    if (live.length === 0) return [];
    await db
      .updateTable('follow_ups')
      .set({ state: 'cancelled', skip_reason: reason, lease_owner: null, lease_until: null, updated_at: now })
      .where(
        'id',
        'in',
        live.map((r) => r.id),
      )
      .execute();
    return live.flatMap((r) => (r.outbox_id ? [r.outbox_id] : []));
  },

  /** How often each rule was sent to this conversation (all silences). */
  async sentCounts(db: Db, conversationId: string): Promise<Record<string, number>> {
    const rows = await db
      .selectFrom('follow_ups')
      .select(['rule_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('conversation_id', '=', conversationId)
      .where('state', '=', 'sent')
      .groupBy('rule_id')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.rule_id, Number(r.n)]));
  },

  /** sentCounts for many conversations in one query (a tick's batch). */
  async sentCountsFor(db: Db, conversationIds: string[]): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>();
    if (conversationIds.length === 0) return out;
    const rows = await db
      .selectFrom('follow_ups')
      .select(['conversation_id', 'rule_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('conversation_id', 'in', conversationIds)
      .where('state', '=', 'sent')
      .groupBy(['conversation_id', 'rule_id'])
      .execute();
    for (const r of rows) {
      const counts = out.get(r.conversation_id) ?? {};
      counts[r.rule_id] = Number(r.n);
      out.set(r.conversation_id, counts);
    }
    return out;
  },

  /** Rows of one silence (any state), in sequence order. */
  async ofSilence(db: Db, conversationId: string, silenceFrom: number): Promise<FollowUpRow[]> {
    return db
      .selectFrom('follow_ups')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('silence_from', '=', silenceFrom)
      .orderBy('sequence')
      .execute();
  },

  /** Follow-ups due now and not yet handed to the outbox: a range scan on follow_ups_due. */
  async countDue(db: Db, now: number): Promise<number> {
    const row = await db
      .selectFrom('follow_ups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'scheduled')
      .where('due_at', '<=', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async listForConversation(db: Db, conversationId: string, limit = 200): Promise<FollowUpRow[]> {
    return db
      .selectFrom('follow_ups')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('due_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /** The sent follow-up of the conversation that went out as `wamid` (pricing, SPEC §14). */
  async findSentWamid(db: Db, conversationId: string, wamid: string): Promise<FollowUpRow | undefined> {
    return db
      .selectFrom('follow_ups')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('state', '=', 'sent')
      .where('sent_wamid', '=', wamid)
      .executeTakeFirst();
  },

  /**
   * A customer wrote at `at`: the conversation's latest follow-up sent since `since` that has not yet
   * earned a reply earns this one. True when one did (SPEC §14: replies earned by follow-ups).
   */
  async markReplied(db: Db, conversationId: string, since: number, at: number): Promise<boolean> {
    const latest = (await latestUnrepliedSend(db, conversationId, since, at)).rows[0];
    if (!latest) return false;
    const res = await db
      .updateTable('follow_ups')
      .set({ replied_at: at })
      .where('id', '=', latest.id)
      .where('replied_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },
});
