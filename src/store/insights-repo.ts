// Insights rollups (migrations/0006_insights.ts, 0007_insight_minutes.ts): customer turns, minute, hour
// and day rollups (turns, answered, response-time histogram, follow-up silences and coverage) per agent
// and for every agent (-1), and conversation counts per agent and state. Written as events arrive;
// read by the insights endpoint with primary-key and range scans only. agent_id 0 = no agent owns
// the channel.
// Over 300 lines: the rollup tables share one key layout (period, start, agent) and their writes and
// range reads are kept together so the two cannot drift apart.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { bumpCounter, writeCounterRow } from './deferred-counts.js';
import { engineOf } from './dialect.js';
import { preparedQuery } from './prepared-query.js';
import type { CustomerTurnsTable } from './tables.js';

export type CustomerTurnRow = CustomerTurnsTable;

/** Which agents a read covers: one agent's id, or every agent ("*"). */
export type AgentScope = { agent_id: number } | { all: true };

export type RollupPeriod = 'm' | 'h' | 'd';

export interface RollupKey {
  agent_id: number;
  period: RollupPeriod;
  start: number;
}

/** Whole periods with start in [from, to). */
export interface RollupRange {
  period: RollupPeriod;
  from: number;
  to: number;
}

export type RollupDelta = Partial<
  Record<'turns' | 'answered' | 'silences' | 'covered' | 'campaign_sent' | 'campaign_replied', number>
>;

export interface RollupRow {
  period: RollupPeriod;
  start: number;
  turns: number;
  answered: number;
  silences: number;
  covered: number;
  campaign_sent: number;
  campaign_replied: number;
  response_hist: string;
}

/**
 * Whose an outbox row is in outbound_pending_counts: the agent of its conversation (0 when no agent
 * owns it), or its channel when it belongs to no conversation (a campaign send to a new number).
 */
export function outboundOwner(of: { agent_id: number | null } | { phone_number_id: string }): string {
  return 'phone_number_id' in of ? `channel:${of.phone_number_id}` : `agent:${of.agent_id ?? 0}`;
}

// Runs whenever a customer message ends a silence (prepared-query.ts).
const liveFirstFollowUpsOf = preparedQuery(1, (db, conversationId: string) =>
  db
    .selectFrom('follow_ups')
    .select(['id', 'rule_id', 'silence_from', 'due_at'])
    .where('conversation_id', '=', conversationId)
    .where('state', 'in', ['scheduled', 'claimed'])
    .where('sequence', '=', 0),
);
// A conversation changing state moves between counts: about every other inbound message (prepared-query.ts).
const leaveStateCount = preparedQuery(3, (db, agentId: number, queueState: string, waiting: number) =>
  db
    .updateTable('conversation_state_counts')
    .set({ n: sql<number>`n - 1` })
    .where('agent_id', '=', agentId)
    .where('queue_state', '=', queueState)
    .where('waiting', '=', waiting),
);
const enterStateCount = preparedQuery(3, (db, agentId: number, queueState: string, waiting: number) =>
  db
    .insertInto('conversation_state_counts')
    .values({ agent_id: agentId, queue_state: queueState, waiting, n: 1 })
    .onConflict((oc) =>
      oc
        .columns(['agent_id', 'queue_state', 'waiting'])
        .doUpdateSet({ n: sql<number>`conversation_state_counts.n + 1` }),
    ),
);

/** A rollup row's name in the counter ledger (store/deferred-counts.ts). */
const rollupKeyName = (k: RollupKey) => `insight_rollups:${k.agent_id}:${k.period}:${k.start}`;

type StateCountKey = { agent_id: number; queue_state: string; waiting: number };

const stateCountKey = (k: StateCountKey) =>
  `conversation_state_counts:${k.agent_id}:${k.queue_state}:${k.waiting}`;

/** Adds `n` (either sign) to one conversation_state_counts row, created when missing. */
async function addToStateCount(db: Db, k: StateCountKey, n: number): Promise<void> {
  await db
    .insertInto('conversation_state_counts')
    .values({ ...k, n })
    .onConflict((oc) =>
      oc
        .columns(['agent_id', 'queue_state', 'waiting'])
        .doUpdateSet({ n: sql<number>`conversation_state_counts.n + excluded.n` }),
    )
    .execute();
}

export const insightsRepo = Object.freeze({
  async startTurn(db: Db, turn: CustomerTurnRow): Promise<void> {
    await db.insertInto('customer_turns').values(turn).execute();
  },

  /** The conversation's newest unanswered turn. */
  async openTurn(db: Db, conversationId: string): Promise<CustomerTurnRow | undefined> {
    return db
      .selectFrom('customer_turns')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('answered_at', 'is', null)
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  },

  async answerTurn(db: Db, turn: CustomerTurnRow, answeredAt: number): Promise<void> {
    await db
      .updateTable('customer_turns')
      .set({ answered_at: answeredAt, response_ms: Math.max(0, answeredAt - turn.started_at) })
      .where('id', '=', turn.id)
      .execute();
  },

  /** Adds to the counters of each rollup row (created when missing): one statement for every key. */
  async bump(db: Db, keys: RollupKey[], delta: RollupDelta): Promise<void> {
    if (keys.length === 0) return;
    if (engineOf(db) === 'postgres') {
      // Hot rows per agent and period: written at the end of the transaction (store/deferred-counts.ts).
      for (const key of keys)
        for (const [col, n] of Object.entries(delta) as [keyof RollupDelta, number][])
          await bumpCounter(db, `${rollupKeyName(key)}:${col}`, n, (d, sum) =>
            insightsRepo.bumpNow(d, [key], { [col]: sum }),
          );
      return;
    }
    await insightsRepo.bumpNow(db, keys, delta);
  },

  /** bump(), written at once. */
  async bumpNow(db: Db, keys: RollupKey[], delta: RollupDelta): Promise<void> {
    const set = Object.fromEntries(
      Object.keys(delta).map((col) => [
        col,
        sql<number>`insight_rollups.${sql.ref(col)} + excluded.${sql.ref(col)}`,
      ]),
    );
    await db
      .insertInto('insight_rollups')
      .values(keys.map((key) => ({ ...key, ...delta })))
      .onConflict((oc) => oc.columns(['agent_id', 'period', 'start']).doUpdateSet(set))
      .execute();
  },

  /** Rewrites the histogram of each rollup row through `update` (rows created when missing). */
  async updateHistograms(db: Db, keys: RollupKey[], update: (hist: string) => string): Promise<void> {
    if (keys.length === 0) return;
    if (engineOf(db) === 'postgres') {
      // The same hot rows as bump(): written at the end of the transaction, in the same order.
      for (const key of keys)
        await writeCounterRow(db, `${rollupKeyName(key)}:~hist`, (d) =>
          insightsRepo.updateHistogramsNow(d, [key], update),
        );
      return;
    }
    await insightsRepo.updateHistogramsNow(db, keys, update);
  },

  /** updateHistograms(), written at once. */
  async updateHistogramsNow(db: Db, keys: RollupKey[], update: (hist: string) => string): Promise<void> {
    const found = await db
      .selectFrom('insight_rollups')
      .select(['agent_id', 'period', 'start', 'response_hist'])
      .where((eb) =>
        eb.or(
          keys.map((k) =>
            eb.and([eb('agent_id', '=', k.agent_id), eb('period', '=', k.period), eb('start', '=', k.start)]),
          ),
        ),
      )
      .execute();
    const current = new Map(found.map((r) => [`${r.agent_id}:${r.period}:${r.start}`, r.response_hist]));
    await db
      .insertInto('insight_rollups')
      .values(
        keys.map((k) => ({
          ...k,
          response_hist: update(current.get(`${k.agent_id}:${k.period}:${k.start}`) ?? '{}'),
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['agent_id', 'period', 'start'])
          .doUpdateSet({ response_hist: sql<string>`excluded.response_hist` }),
      )
      .execute();
  },

  /** Rollup rows of one agent (-1: every agent) and period with start in [from, to). */
  async rollups(
    db: Db,
    agentId: number,
    period: RollupPeriod,
    from: number,
    to: number,
    withHistogram: boolean,
  ): Promise<RollupRow[]> {
    return insightsRepo.rollupsIn(db, agentId, [{ period, from, to }], withHistogram);
  },

  /**
   * Rollup rows of one agent (-1: every agent) in each of the ranges: one statement, one primary-key
   * range per range, so the rows read are bounded by the ranges' lengths, not by the traffic.
   */
  async rollupsIn(
    db: Db,
    agentId: number,
    ranges: RollupRange[],
    withHistogram: boolean,
  ): Promise<RollupRow[]> {
    const live = ranges.filter((r) => r.from < r.to);
    if (live.length === 0) return [];
    const rows = await db
      .selectFrom('insight_rollups')
      .select([
        'period',
        'start',
        'turns',
        'answered',
        'silences',
        'covered',
        'campaign_sent',
        'campaign_replied',
      ])
      .$if(withHistogram, (q) => q.select('response_hist'))
      // The agent is repeated in every term: SQLite then walks one key range per term (MULTI-INDEX
      // OR); with the agent outside the OR it would read every row of the agent.
      .where((eb) =>
        eb.or(
          live.map((r) =>
            eb.and([
              eb('agent_id', '=', agentId),
              eb('period', '=', r.period),
              eb('start', '>=', r.from),
              eb('start', '<', r.to),
            ]),
          ),
        ),
      )
      .execute();
    return rows.map((r) => ({
      period: r.period,
      start: Number(r.start),
      turns: Number(r.turns),
      answered: Number(r.answered),
      silences: Number(r.silences),
      covered: Number(r.covered),
      campaign_sent: Number(r.campaign_sent),
      campaign_replied: Number(r.campaign_replied),
      response_hist: (r as { response_hist?: string }).response_hist ?? '{}',
    }));
  },

  /** The first follow-up row (sequence 0) of a silence. */
  async firstOfSilence(db: Db, conversationId: string, silenceFrom: number) {
    return db
      .selectFrom('follow_ups')
      .select(['id', 'rule_id', 'silence_from', 'due_at', 'state'])
      .where('conversation_id', '=', conversationId)
      .where('silence_from', '=', silenceFrom)
      .where('sequence', '=', 0)
      .executeTakeFirst();
  },

  /** First follow-ups of the conversation's silences that may still go out. */
  async liveFirstFollowUps(db: Db, conversationId: string) {
    return (await liveFirstFollowUpsOf(db, conversationId)).rows;
  },

  /** How many follow-ups of one silence were accepted by the API. */
  async sentInSilence(db: Db, conversationId: string, silenceFrom: number): Promise<number> {
    const row = await db
      .selectFrom('follow_ups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('state', '=', 'sent')
      .where('silence_from', '=', silenceFrom)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Moves one conversation between (agent, state, waiting) keys; `from` null for a new one. */
  async moveStateCount(
    db: Db,
    from: { agent_id: number; queue_state: string; waiting: number } | null,
    to: { agent_id: number; queue_state: string; waiting: number },
  ): Promise<void> {
    if (engineOf(db) === 'sqlite') {
      // One writer, no lock cycles: written at once, through the prepared statements.
      if (from) await leaveStateCount(db, from.agent_id, from.queue_state, from.waiting);
      await enterStateCount(db, to.agent_id, to.queue_state, to.waiting);
      return;
    }
    // A hot row per agent and state: written at the end of the transaction (store/deferred-counts.ts).
    if (from) await bumpCounter(db, stateCountKey(from), -1, (d, n) => addToStateCount(d, from, n));
    await bumpCounter(db, stateCountKey(to), 1, (d, n) => addToStateCount(d, to, n));
  },

  /** Conversations per state and waiting flag for the scope. */
  async stateCounts(
    db: Db,
    scope: AgentScope,
  ): Promise<{ queue_state: string; waiting: number; n: number }[]> {
    let q = db
      .selectFrom('conversation_state_counts')
      .select(['queue_state', 'waiting', (eb) => eb.fn.sum<number>('n').as('n')]);
    if ('agent_id' in scope) q = q.where('agent_id', '=', scope.agent_id);
    const rows = await q.groupBy(['queue_state', 'waiting']).execute();
    return rows.map((r) => ({ queue_state: r.queue_state, waiting: Number(r.waiting), n: Number(r.n) }));
  },

  /** Turns started in [from, to) for the scope: start and response time only (index-only scan). */
  async turnsBetween(
    db: Db,
    scope: AgentScope,
    from: number,
    to: number,
  ): Promise<{ started_at: number; response_ms: number | null }[]> {
    return insightsRepo.turnsIn(db, scope, [{ from, to }]);
  },

  /** Turns started in any of the ranges [from, to): one statement, an index range per range. */
  async turnsIn(
    db: Db,
    scope: AgentScope,
    ranges: { from: number; to: number }[],
  ): Promise<{ started_at: number; response_ms: number | null }[]> {
    const live = ranges.filter((r) => r.from < r.to);
    if (live.length === 0) return [];
    // The agent goes into every term so each is one index range (see rollupsIn).
    const rows = await db
      .selectFrom('customer_turns')
      .select(['started_at', 'response_ms'])
      .where((eb) =>
        eb.or(
          live.map((r) =>
            eb.and([
              ...('agent_id' in scope ? [eb('agent_id', '=', scope.agent_id)] : []),
              eb('started_at', '>=', r.from),
              eb('started_at', '<', r.to),
            ]),
          ),
        ),
      )
      .execute();
    return rows.map((r) => ({
      started_at: Number(r.started_at),
      response_ms: r.response_ms === null ? null : Number(r.response_ms),
    }));
  },

  /**
   * Deletes minute rollup rows that started before `cutoff`, about `limit` at a time (the rows of the
   * batch's last minute go whole, so a little more); returns how many. A range on (period, start).
   */
  async pruneMinuteRollups(db: Db, cutoff: number, limit: number): Promise<number> {
    const batch = await db
      .selectFrom('insight_rollups')
      .select('start')
      .where('period', '=', 'm')
      .where('start', '<', cutoff)
      .orderBy('start')
      .limit(limit)
      .execute();
    const last = batch[batch.length - 1];
    if (!last) return 0;
    const res = await db
      .deleteFrom('insight_rollups')
      .where('period', '=', 'm')
      .where('start', '<=', Number(last.start))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  /**
   * Keeps outbound_pending_counts in step with the outbox (store/outbox-repo.ts): `delta` rows of the
   * owner became unsent (+) or were accepted, failed or cancelled (-).
   */
  async bumpOutboundPending(db: Db, owner: string, delta: number): Promise<void> {
    // A hot row per agent: written at the end of the transaction (store/deferred-counts.ts).
    await bumpCounter(db, `outbound_pending_counts:${owner}`, delta, async (d, n) => {
      await d
        .insertInto('outbound_pending_counts')
        .values({ owner, n })
        .onConflict((oc) =>
          oc.column('owner').doUpdateSet({ n: sql<number>`outbound_pending_counts.n + excluded.n` }),
        )
        .execute();
    });
  },

  /**
   * Outbound messages not yet accepted by the API (queued or sending) for the scope: those of the
   * agent's conversations and those of its channel that belong to no conversation.
   */
  async outboundPending(db: Db, scope: AgentScope, agentPhoneNumberId: string | null): Promise<number> {
    let q = db.selectFrom('outbound_pending_counts').select((eb) => eb.fn.sum<number>('n').as('n'));
    if ('agent_id' in scope) {
      const owners = [outboundOwner({ agent_id: scope.agent_id })];
      if (agentPhoneNumberId !== null) owners.push(outboundOwner({ phone_number_id: agentPhoneNumberId }));
      q = q.where('owner', 'in', owners);
    }
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n ?? 0);
  },

  /**
   * Campaign recipients sent in any of the ranges [from, to) for the scope, and how many of them
   * wrote back (a reply is attributed only within the attribution window, campaigns/recipient-events).
   * A range of the sent_at index per range; campaigns by primary key.
   */
  async campaignSends(
    db: Db,
    scope: AgentScope,
    ranges: { from: number; to: number }[],
  ): Promise<{ sent: number; replied: number }> {
    const live = ranges.filter((r) => r.from < r.to);
    if (live.length === 0) return { sent: 0, replied: 0 };
    let q = db
      .selectFrom('campaign_recipients as r')
      .select((eb) => [
        eb.fn.countAll<number>().as('sent'),
        eb.fn.count<number>('r.replied_at').as('replied'),
      ])
      .where((eb) =>
        eb.or(live.map((r) => eb.and([eb('r.sent_at', '>=', r.from), eb('r.sent_at', '<', r.to)]))),
      );
    if ('agent_id' in scope) {
      q = q.innerJoin('campaigns as c', 'c.id', 'r.campaign_id').where('c.agent_id', '=', scope.agent_id);
    }
    const row = await q.executeTakeFirstOrThrow();
    return { sent: Number(row.sent), replied: Number(row.replied ?? 0) };
  },

  /** The agent that owns a campaign (0: none, as for conversations). */
  async campaignAgent(db: Db, campaignId: string): Promise<number> {
    const row = await db
      .selectFrom('campaigns')
      .select('agent_id')
      .where('id', '=', campaignId)
      .executeTakeFirst();
    return Number(row?.agent_id ?? 0);
  },

  /**
   * First follow-ups of silences that started in any of the ranges [from, to), with whether any
   * follow-up of the same silence was accepted by the API. A range scan on (sequence, silence_from)
   * per range.
   */
  async firstFollowUps(
    db: Db,
    scope: AgentScope,
    ranges: { from: number; to: number }[],
  ): Promise<
    {
      rule_id: string;
      silence_from: number;
      due_at: number;
      state: string;
      updated_at: number;
      covered: number;
    }[]
  > {
    const live = ranges.filter((r) => r.from < r.to);
    if (live.length === 0) return [];
    let q = db
      .selectFrom('follow_ups as f')
      .select((eb) => [
        'f.rule_id',
        'f.silence_from',
        'f.due_at',
        'f.state',
        'f.updated_at',
        eb
          .exists(
            eb
              .selectFrom('follow_ups as s')
              .select('s.id')
              .whereRef('s.conversation_id', '=', 'f.conversation_id')
              .whereRef('s.silence_from', '=', 'f.silence_from')
              .where('s.state', '=', 'sent'),
          )
          .as('covered'),
      ])
      // The sequence goes into every term so each is one index range (see rollupsIn).
      .where((eb) =>
        eb.or(
          live.map((r) =>
            eb.and([
              eb('f.sequence', '=', 0),
              eb('f.silence_from', '>=', r.from),
              eb('f.silence_from', '<', r.to),
            ]),
          ),
        ),
      );
    // Driven by the follow-ups range; each row's conversation is a primary-key lookup.
    if ('agent_id' in scope) {
      q = q
        .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
        .where('c.agent_id', '=', scope.agent_id);
    }
    const rows = await q.execute();
    return rows.map((r) => ({
      ...r,
      silence_from: Number(r.silence_from),
      due_at: Number(r.due_at),
      updated_at: Number(r.updated_at),
      covered: Number(r.covered),
    }));
  },
});
