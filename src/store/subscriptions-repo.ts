// Webhook subscriptions and their delivery queue (SPEC §11). One delivery row per (subscription,
// event); the worker claims due rows in one statement with an owner and a lease, and only the oldest
// pending row of each conversation, so a subscriber sees a conversation's events in sequence order.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import { claimDue, type QueueWhere, releaseLeases } from './locking.js';
import { preparedByColumns, preparedQuery } from './prepared-query.js';
import type { EventDeliveriesTable, EventDeliveryAttemptsTable, EventSubscriptionsTable } from './tables.js';

export type SubscriptionRow = Selectable<EventSubscriptionsTable>;
export type DeliveryRow = Selectable<EventDeliveriesTable>;

const pending: QueueWhere<'event_deliveries'> = (eb) => eb('state', '=', 'pending');
export type AttemptRow = Selectable<EventDeliveryAttemptsTable>;

/** What settling a delivery writes besides giving its lease back. */
export type SettlePatch = Pick<
  DeliveryRow,
  'state' | 'attempts' | 'next_attempt_at' | 'last_status' | 'last_error'
> & {
  delivered_at?: number | null;
  updated_at: number;
};

// The statements the delivery worker runs per pass and per attempt, prepared (prepared-query.ts):
// built by Kysely for every delivery they cost more CPU than SQLite spent running them.
const getSubscription = preparedQuery(1, (db, id: string) =>
  db.selectFrom('event_subscriptions').selectAll().where('id', '=', id),
);
const enabledSubscriptions = preparedQuery(0, (db) =>
  db.selectFrom('event_subscriptions').selectAll().where('enabled', '=', 1).orderBy('id').limit(1000),
);
// settleHeld's shape (locking.ts): the patch, the lease given back, only while `owner` holds the row.
const settleDelivery = preparedByColumns((db, patch: SettlePatch, id: string, owner: string) =>
  db
    .updateTable('event_deliveries')
    .set({ ...patch, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner),
);
/** Attempt rows per INSERT (9 columns each: far below either engine's parameter limit). */
const ATTEMPTS_PER_INSERT = 100;

export interface DeliveryCounts {
  pending: number;
  delivered: number;
  dead: number;
}

export const subscriptionsRepo = Object.freeze({
  async insert(db: Db, row: SubscriptionRow): Promise<void> {
    await db.insertInto('event_subscriptions').values(row).execute();
  },

  async get(db: Db, id: string): Promise<SubscriptionRow | undefined> {
    return (await getSubscription(db, id)).rows[0];
  },

  /** Every subscription, oldest first (a handful per installation). */
  async list(db: Db): Promise<SubscriptionRow[]> {
    return db.selectFrom('event_subscriptions').selectAll().orderBy('id').limit(1000).execute();
  },

  async enabled(db: Db): Promise<SubscriptionRow[]> {
    return (await enabledSubscriptions(db)).rows;
  },

  async count(db: Db): Promise<number> {
    const r = await db
      .selectFrom('event_subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  },

  async update(db: Db, id: string, patch: Partial<SubscriptionRow>): Promise<void> {
    await db.updateTable('event_subscriptions').set(patch).where('id', '=', id).execute();
  },

  async remove(db: Db, id: string): Promise<boolean> {
    await db.deleteFrom('event_deliveries').where('subscription_id', '=', id).execute();
    await db.deleteFrom('event_delivery_attempts').where('subscription_id', '=', id).execute();
    const r = await db.deleteFrom('event_subscriptions').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** Deliveries per state of each subscription (list and get show them as delivery health). */
  async deliveryCounts(db: Db): Promise<Map<string, DeliveryCounts>> {
    const rows = await db
      .selectFrom('event_deliveries')
      .select(['subscription_id', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['subscription_id', 'state'])
      .execute();
    const out = new Map<string, DeliveryCounts>();
    for (const r of rows) {
      const c = out.get(r.subscription_id) ?? { pending: 0, delivered: 0, dead: 0 };
      c[r.state] = Number(r.n);
      out.set(r.subscription_id, c);
    }
    return out;
  },

  /**
   * New deliveries for `events` (already filtered for the subscription), and the subscription's cursor
   * moved to `cursor`, guarded on the cursor it had: a second instance that fanned out meanwhile wins
   * and this call changes nothing (the unique index keeps deliveries single either way).
   */
  async fanOut(
    db: Db,
    sub: { id: string; cursor_seq: number },
    rows: DeliveryRow[],
    cursor: number,
  ): Promise<boolean> {
    const moved = await db
      .updateTable('event_subscriptions')
      .set({ cursor_seq: cursor })
      .where('id', '=', sub.id)
      .where('cursor_seq', '=', sub.cursor_seq)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return false;
    for (let i = 0; i < rows.length; i += 200) {
      await db
        .insertInto('event_deliveries')
        .values(rows.slice(i, i + 200))
        .onConflict((oc) => oc.columns(['subscription_id', 'event_seq']).doNothing())
        .execute();
    }
    return true;
  },

  /**
   * Claims up to `limit` due deliveries of one subscription in one statement: pending, due, lease
   * free or expired, and no earlier pending delivery of the same conversation (events without one
   * never wait for each other). A crashed owner's rows come back when their lease expires.
   */
  async claim(
    db: Db,
    subscriptionId: string,
    owner: string,
    now: number,
    leaseUntil: number,
    limit: number,
  ): Promise<DeliveryRow[]> {
    return claimDue(db, {
      table: 'event_deliveries',
      owner,
      now,
      leaseUntil,
      limit,
      due: (eb) =>
        eb.and([
          eb('subscription_id', '=', subscriptionId),
          pending(eb),
          eb('next_attempt_at', '<=', now),
          // Per-conversation order: the earliest pending delivery of a conversation goes first. The
          // outer row is named by its table (the inner one is `p`).
          eb.not(
            eb.exists(
              eb
                .selectFrom('event_deliveries as p')
                .select('p.id')
                .whereRef('p.subscription_id', '=', 'event_deliveries.subscription_id')
                .whereRef('p.order_key', '=', 'event_deliveries.order_key')
                .where('p.order_key', '!=', '')
                .where('p.state', '=', 'pending')
                .whereRef('p.event_seq', '<', 'event_deliveries.event_seq'),
            ),
          ),
        ]),
      order: ['event_seq'],
    });
  },

  /** Settles a claimed delivery (only while this owner still holds it). */
  async settle(db: Db, id: string, owner: string, patch: SettlePatch): Promise<boolean> {
    const res = await settleDelivery(db, patch, id, owner);
    return Number(res.numAffectedRows ?? 0) > 0;
  },

  /** Start-up: rows this instance held when it stopped (kill -9) are due again at once. */
  async releaseOwned(db: Db, owner: string): Promise<number> {
    return releaseLeases(db, { table: 'event_deliveries', owner, guard: pending });
  },

  /** Gives claimed rows back untouched (the worker is stopping). */
  async release(db: Db, ids: string[]): Promise<void> {
    await releaseLeases(db, { table: 'event_deliveries', ids });
  },

  /** Replay (SPEC §11): these events go out again to the subscription, from the start. */
  async requeue(db: Db, rows: DeliveryRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) {
      await db
        .insertInto('event_deliveries')
        .values(rows.slice(i, i + 200))
        .onConflict((oc) =>
          oc.columns(['subscription_id', 'event_seq']).doUpdateSet((eb) => ({
            state: 'pending',
            attempts: 0,
            next_attempt_at: eb.ref('excluded.next_attempt_at'),
            created_at: eb.ref('excluded.created_at'),
            updated_at: eb.ref('excluded.updated_at'),
            last_error: null,
          })),
        )
        .execute();
    }
  },

  async recordAttempt(db: Db, row: AttemptRow): Promise<void> {
    await db.insertInto('event_delivery_attempts').values(row).execute();
  },

  /** The attempts of one settle batch, in as few statements as the engines' limits allow. */
  async recordAttempts(db: Db, rows: AttemptRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ATTEMPTS_PER_INSERT) {
      await db
        .insertInto('event_delivery_attempts')
        .values(rows.slice(i, i + ATTEMPTS_PER_INSERT))
        .execute();
    }
  },

  /** Attempts newest first, strictly before the (at, id) of the previous page's last one. */
  async attempts(
    db: Db,
    subscriptionId: string,
    limit: number,
    before?: { at: number; id: string },
  ): Promise<AttemptRow[]> {
    let q = db
      .selectFrom('event_delivery_attempts')
      .selectAll()
      .where('subscription_id', '=', subscriptionId);
    if (before) {
      q = q.where((eb) =>
        eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]),
      );
    }
    return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  },

  /** created_at of the oldest pending delivery of an enabled subscription (metrics). */
  async oldestPending(db: Db): Promise<number | null> {
    const r = await db
      .selectFrom('event_deliveries')
      .innerJoin('event_subscriptions', 'event_subscriptions.id', 'event_deliveries.subscription_id')
      .select((eb) => eb.fn.min<number>('event_deliveries.created_at').as('t'))
      .where('event_deliveries.state', '=', 'pending')
      .where('event_subscriptions.enabled', '=', 1)
      .executeTakeFirst();
    return r?.t ?? null;
  },

  /** Housekeeping: settled deliveries and attempts older than `before`; returns how many rows. */
  async prune(db: Db, before: number, limit: number): Promise<number> {
    const a = await db
      .deleteFrom('event_delivery_attempts')
      .where(
        'id',
        'in',
        db.selectFrom('event_delivery_attempts').select('id').where('at', '<', before).limit(limit),
      )
      .executeTakeFirst();
    const d = await db
      .deleteFrom('event_deliveries')
      .where(
        'id',
        'in',
        db
          .selectFrom('event_deliveries')
          .select('id')
          .where('state', '!=', 'pending')
          .where('updated_at', '<', before)
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(a.numDeletedRows) + Number(d.numDeletedRows);
  },
});
