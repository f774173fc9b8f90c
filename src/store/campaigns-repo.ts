// Campaigns and their recipients (SPEC §7). Every recipient state change goes through moveRecipients,
// which guards on the expected current state and moves the campaign's count columns in the same
// transaction, so counts are always the true number of recipients per state without counting rows.
// Over 300 lines: every recipient state change must go through moveRecipients with the campaign's
// count columns, so the queries that touch recipients stay in the file that owns that rule.
import {
  type Expression,
  type ExpressionBuilder,
  type Insertable,
  type Selectable,
  type SqlBool,
  sql,
  type Updateable,
} from 'kysely';
import type { Db } from './db.js';
import { forUpdate, isPostgres } from './locking.js';
import { preparedQuery } from './prepared-query.js';
import type {
  CampaignRecipientsTable,
  CampaignState,
  CampaignsTable,
  Database,
  RecipientState,
} from './tables.js';

export type CampaignRow = Selectable<CampaignsTable>;
export type CampaignPatch = Updateable<CampaignsTable>;
export type RecipientRow = Selectable<CampaignRecipientsTable>;
export type NewRecipient = Insertable<CampaignRecipientsTable>;
export type RecipientPatch = Omit<Updateable<CampaignRecipientsTable>, 'state' | 'id' | 'campaign_id'>;

export const RECIPIENT_STATES: readonly RecipientState[] = [
  'queued',
  'sent',
  'delivered',
  'read',
  'replied',
  'failed',
  'skipped_opted_out',
];

type CountColumn = `count_${RecipientState}`;
const countColumn = (s: RecipientState): CountColumn => `count_${s}`;

/** A recipient ready to be handed to the outbox, with what the feeder must know about the customer. */
export interface FeedableRecipient extends RecipientRow {
  known_contact_id: string | null;
  opted_out_at: number | null;
}

/**
 * Campaign sends to `waId` in [since, at] that a reply may still be attributed to: what latestSentTo
 * looks for, and what the inbound read asks after (inbound-hints.ts), so the two cannot drift apart.
 */
export const attributableSendsTo =
  (waId: string | null, since: number, at: number) =>
  (eb: ExpressionBuilder<Database, 'campaign_recipients'>): Expression<SqlBool> =>
    eb.and([
      eb('campaign_recipients.wa_id', '=', waId),
      eb('campaign_recipients.sent_at', '>=', since),
      eb('campaign_recipients.sent_at', '<=', at),
      eb('campaign_recipients.state', 'in', ['sent', 'delivered', 'read']),
    ]);

// Runs for a customer message unless the inbound read found no such send (prepared-query.ts).
const latestSendTo = preparedQuery(3, (db, waId: string, since: number, at: number) =>
  db
    .selectFrom('campaign_recipients')
    .selectAll()
    .where(attributableSendsTo(waId, since, at))
    .orderBy('sent_at', 'desc')
    .limit(1),
);

export const campaignsRepo = Object.freeze({
  async insert(db: Db, row: CampaignRow): Promise<void> {
    await db.insertInto('campaigns').values(row).execute();
  },

  /**
   * Inserts recipients in multi-row statements of `chunk` rows. Every full chunk has the same SQL
   * text, so the statement cache (store/db.ts) compiles it once for a 100k list.
   */
  async insertRecipients(db: Db, rows: NewRecipient[], chunk = 1000): Promise<void> {
    for (let i = 0; i < rows.length; i += chunk) {
      await db
        .insertInto('campaign_recipients')
        .values(rows.slice(i, i + chunk))
        .execute();
    }
  },

  async get(db: Db, id: string): Promise<CampaignRow | undefined> {
    return db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /**
   * The campaign, locked until commit on PostgreSQL: the feeder's claim on it (SPEC §10), so that two
   * instances feeding at once take turns and the second sees what the first enqueued.
   */
  /**
   * Takes the campaign's row lock before a send's answer touches its recipient (PostgreSQL; nothing to
   * do on SQLite, whose one writer serialises). Lock order is campaign first, then recipients and
   * outbox rows, as the feeder and pause/cancel take them: a send result that moved its recipient
   * first and then waited for the campaign deadlocked against a pause holding the campaign and
   * waiting for that recipient (40P01, caught by the three-instance fault suite).
   */
  async lockCampaign(db: Db, id: string): Promise<void> {
    if (!isPostgres(db)) return;
    await forUpdate(db, db.selectFrom('campaigns').select('id').where('id', '=', id)).execute();
  },

  /** `lockCampaign` for the campaign of a recipient, in one statement. */
  async lockCampaignOfRecipient(db: Db, recipientId: string): Promise<void> {
    if (!isPostgres(db)) return;
    const campaign = db.selectFrom('campaign_recipients').select('campaign_id').where('id', '=', recipientId);
    await forUpdate(db, db.selectFrom('campaigns').select('id').where('id', '=', campaign)).execute();
  },

  async getForFeeding(db: Db, id: string): Promise<CampaignRow | undefined> {
    return forUpdate(db, db.selectFrom('campaigns').selectAll().where('id', '=', id)).executeTakeFirst();
  },

  /** Newest first (ids are time-ordered), keyset after `afterId`. */
  async page(
    db: Db,
    filters: { state?: CampaignState; agent_id?: number },
    limit: number,
    afterId?: string,
  ): Promise<CampaignRow[]> {
    let q = db.selectFrom('campaigns').selectAll();
    if (filters.state) q = q.where('state', '=', filters.state);
    if (filters.agent_id !== undefined) q = q.where('agent_id', '=', filters.agent_id);
    if (afterId) q = q.where('id', '<', afterId);
    return q.orderBy('id', 'desc').limit(limit).execute();
  },

  /** Campaigns in these states (the feeder's work list; few rows). */
  async inStates(db: Db, states: CampaignState[]): Promise<CampaignRow[]> {
    return db.selectFrom('campaigns').selectAll().where('state', 'in', states).orderBy('id').execute();
  },

  /** Moves the campaign to `to` when it is in one of `from`; false when it was not (a 409). */
  async transition(
    db: Db,
    id: string,
    from: CampaignState[],
    to: CampaignState,
    patch: CampaignPatch,
  ): Promise<boolean> {
    const res = await db
      .updateTable('campaigns')
      .set({ ...patch, state: to })
      .where('id', '=', id)
      .where('state', 'in', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },

  async recipientsPage(
    db: Db,
    campaignId: string,
    state: RecipientState | undefined,
    limit: number,
    afterIndex?: number,
  ): Promise<RecipientRow[]> {
    let q = db.selectFrom('campaign_recipients').selectAll().where('campaign_id', '=', campaignId);
    if (state) q = q.where('state', '=', state);
    if (afterIndex !== undefined) q = q.where('index', '>', afterIndex);
    return q.orderBy('index').limit(limit).execute();
  },

  /** Queued recipients not yet in the outbox, in list order, with the customer's contact if known. */
  async feedable(db: Db, campaignId: string, limit: number): Promise<FeedableRecipient[]> {
    if (limit <= 0) return [];
    return db
      .selectFrom('campaign_recipients as r')
      .leftJoin('contact_identities as ci', (j) =>
        j.onRef('ci.value', '=', 'r.wa_id').on('ci.kind', '=', 'wa_id'),
      )
      .leftJoin('contacts as c', 'c.id', 'ci.contact_id')
      .selectAll('r')
      .select(['c.id as known_contact_id', 'c.opted_out_at'])
      .where('r.campaign_id', '=', campaignId)
      .where('r.state', '=', 'queued')
      .where('r.outbox_id', 'is', null)
      .orderBy('r.index')
      .limit(limit)
      .execute();
  },

  /** Recipients of the campaign handed to the outbox and not yet sent, failed or skipped. */
  async inOutbox(db: Db, campaignId: string): Promise<{ id: string; outbox_id: string }[]> {
    const rows = await db
      .selectFrom('campaign_recipients')
      .select(['id', 'outbox_id'])
      .where('campaign_id', '=', campaignId)
      .where('state', '=', 'queued')
      .where('outbox_id', 'is not', null)
      .execute();
    return rows as { id: string; outbox_id: string }[];
  },

  async getRecipient(db: Db, id: string): Promise<RecipientRow | undefined> {
    return db.selectFrom('campaign_recipients').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async recipientByWamid(db: Db, wamid: string): Promise<RecipientRow | undefined> {
    return db.selectFrom('campaign_recipients').selectAll().where('wamid', '=', wamid).executeTakeFirst();
  },

  /** The customer's latest send still open to attribution: sent at or after `since`, at or before `at`. */
  async latestSentTo(db: Db, waId: string, since: number, at: number): Promise<RecipientRow | undefined> {
    return (await latestSendTo(db, waId, since, at)).rows[0];
  },

  /** Queued recipients of any campaign addressed to these numbers (an opt-out). */
  async queuedTo(db: Db, waIds: string[]): Promise<RecipientRow[]> {
    if (waIds.length === 0) return [];
    return db
      .selectFrom('campaign_recipients')
      .selectAll()
      .where('wa_id', 'in', waIds)
      .where('state', '=', 'queued')
      .execute();
  },

  /** Sets columns of a recipient without a state change (outbox_id when handed to the outbox). */
  async patchRecipient(db: Db, id: string, patch: RecipientPatch, onlyIfOutboxId?: string | null) {
    let q = db.updateTable('campaign_recipients').set(patch).where('id', '=', id);
    if (onlyIfOutboxId === null) q = q.where('outbox_id', 'is', null);
    else if (onlyIfOutboxId !== undefined) q = q.where('outbox_id', '=', onlyIfOutboxId);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },

  /** Clears outbox_id of queued recipients whose outbox row, one of `outboxIds`, was cancelled. */
  async detachCancelled(db: Db, campaignId: string, outboxIds: string[], now: number): Promise<number> {
    if (outboxIds.length === 0) return 0;
    const res = await db
      .updateTable('campaign_recipients')
      .set({ outbox_id: null, updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('state', '=', 'queued')
      .where('outbox_id', 'in', (eb) =>
        eb
          .selectFrom('outbox')
          .select('outbox.id')
          .where('outbox.id', 'in', outboxIds)
          .where('outbox.state', '=', 'cancelled'),
      )
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  },

  /** Distinct customers campaigns sent to at or after `since` (the messaging limit's use). */
  async customersSentSince(db: Db, since: number): Promise<number> {
    const row = await db
      .selectFrom('campaign_recipients')
      .select((eb) => eb.fn.count<number>('wa_id').distinct().as('n'))
      .where('sent_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  /** When the `n`-th oldest send at or after `since` went out (1-based); undefined when fewer. */
  async nthSendSince(db: Db, since: number, n: number): Promise<number | undefined> {
    const row = await db
      .selectFrom('campaign_recipients')
      .select('sent_at')
      .where('sent_at', '>=', since)
      .orderBy('sent_at')
      .limit(1)
      .offset(Math.max(0, n - 1))
      .executeTakeFirst();
    return row?.sent_at ?? undefined;
  },

  /** Recipients still queued in running or scheduled campaigns other than `exceptId`. */
  async queuedElsewhere(db: Db, exceptId: string): Promise<number> {
    const row = await db
      .selectFrom('campaigns')
      .select((eb) => eb.fn.sum<number>('count_queued').as('n'))
      .where('state', 'in', ['running', 'scheduled'])
      .where('id', '<>', exceptId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  /** Failed recipients by error code (the detail's `failures`). */
  async failuresByCode(
    db: Db,
    campaignId: string,
  ): Promise<{ code: number | null; title: string | null; count: number }[]> {
    const rows = await db
      .selectFrom('campaign_recipients')
      .select((eb) => [
        'error_code as code',
        eb.fn.max('error_title').as('title'),
        eb.fn.countAll<number>().as('count'),
      ])
      .where('campaign_id', '=', campaignId)
      .where('state', '=', 'failed')
      .groupBy('error_code')
      .execute();
    return rows.map((r) => ({ code: r.code, title: r.title as string | null, count: Number(r.count) }));
  },

  /**
   * Copies the recipients of `sourceId` in one of `states` (and, with `codes`, failed with one of
   * them or with none) to campaign `targetId` as queued, in one statement, leaving out customers who
   * opted out. Ids are the new campaign's id and the list index. Returns how many were copied.
   */
  async copyAudience(
    db: Db,
    input: { sourceId: string; targetId: string; states: RecipientState[]; codes?: number[]; now: number },
  ): Promise<number> {
    let q = db
      .selectFrom('campaign_recipients as r')
      .select([
        // Typed casts: PostgreSQL cannot infer a bare parameter's type in `||` or a select list.
        sql<string>`cast(${input.targetId} as text) || '-' || cast(${sql.ref('r.index')} as text)`.as('id'),
        sql<string>`cast(${input.targetId} as text)`.as('campaign_id'),
        'r.index',
        'r.wa_id',
        'r.contact_id',
        'r.parameters',
        sql<string>`cast(${'queued'} as text)`.as('state'),
        sql<number>`cast(${input.now} as bigint)`.as('updated_at'),
      ])
      .where('r.campaign_id', '=', input.sourceId)
      .where('r.state', 'in', input.states)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('contact_identities as ci')
              .innerJoin('contacts as c', 'c.id', 'ci.contact_id')
              .select('ci.contact_id')
              .where('ci.kind', '=', 'wa_id')
              .whereRef('ci.value', '=', 'r.wa_id')
              .where('c.opted_out_at', 'is not', null),
          ),
        ),
      );
    const codes = input.codes;
    if (codes) q = q.where((eb) => eb.or([eb('r.error_code', 'in', codes), eb('r.error_code', 'is', null)]));
    const res = await db
      .insertInto('campaign_recipients')
      .columns(['id', 'campaign_id', 'index', 'wa_id', 'contact_id', 'parameters', 'state', 'updated_at'])
      .expression(q)
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0);
  },

  /** Sets the recipient totals of a campaign made by copying (all queued). */
  async setQueuedTotal(db: Db, id: string, n: number): Promise<void> {
    await db
      .updateTable('campaigns')
      .set({ recipients_total: n, count_queued: n })
      .where('id', '=', id)
      .execute();
  },

  /** The campaign's send-outcome window (campaigns/auto-pause.ts). */
  async outcomeWindow(db: Db, campaignId: string): Promise<{ recent: string; sendsRecorded: number }> {
    const row = await db
      .selectFrom('campaigns')
      .select(['recent_outcomes', 'sends_recorded'])
      .where('id', '=', campaignId)
      .executeTakeFirst();
    return { recent: row?.recent_outcomes ?? '', sendsRecorded: row?.sends_recorded ?? 0 };
  },

  async setOutcomeWindow(db: Db, campaignId: string, recent: string, sendsRecorded: number): Promise<void> {
    await db
      .updateTable('campaigns')
      .set({ recent_outcomes: recent, sends_recorded: sendsRecorded })
      .where('id', '=', campaignId)
      .execute();
  },

  /**
   * Moves one recipient of `campaignId` from one of `from` to `to` and the campaign's counts with it.
   * False (and nothing changed) when the recipient was not in one of `from`.
   */
  async moveRecipient(
    db: Db,
    recipient: Pick<RecipientRow, 'id' | 'campaign_id' | 'state'>,
    from: RecipientState[],
    to: RecipientState,
    patch: RecipientPatch,
  ): Promise<boolean> {
    if (!from.includes(recipient.state)) return false;
    const res = await db
      .updateTable('campaign_recipients')
      .set({ ...patch, state: to })
      .where('id', '=', recipient.id)
      .where('state', '=', recipient.state)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    if (recipient.state !== to) {
      const dec = countColumn(recipient.state);
      const inc = countColumn(to);
      await db
        .updateTable('campaigns')
        .set((eb) => ({ [dec]: eb(dec, '-', 1), [inc]: eb(inc, '+', 1) }))
        .where('id', '=', recipient.campaign_id)
        .execute();
    }
    return true;
  },
});
