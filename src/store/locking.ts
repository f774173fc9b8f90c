// Row locks, the one dialect-specific piece of every claim (SPEC §10). A claim is one statement:
//   with due as materialized (select id from <queue> where <due and not held by a live lease>
//     order by ... limit n [for update skip locked])
//   update <queue> set lease_owner = ?, lease_until = ? where id in (select id from due) returning *
// The CTE, not `id in (subquery)`: PostgreSQL may run a locking subquery again for each row it
// updates, and each run passes over the rows the statement already updated (locked by itself), so
// one claim of `limit n` took every due row (caught by test/store/claims.test.ts).
// On PostgreSQL the inner select takes FOR UPDATE SKIP LOCKED, so concurrent claimers on other
// connections pass over each other's rows instead of waiting for them (and never take them twice).
// SQLite has no row locks and needs none: a write statement holds the database's one write lock, so the
// select and the update of one claim statement see and change the same rows with no writer between.
// Conversation updates re-read their row with `forUpdate` (a plain row lock, waited for) for the same
// reason. Every queue (inbox, outbox, follow-ups, responder jobs, media, event deliveries) claims,
// renews, releases and settles through the helpers below, so the shape above is written once; each
// repository says only its due condition, order, extra sets and state guard. The same repository code
// runs on both engines. The queues claimed often with few rows (inbox, responder jobs, media) claim
// through preparedClaim: the same statement, compiled once. One exception: event deliveries settle
// through a prepared statement of settleHeld's shape (subscriptions-repo.ts), since that runs once
// per webhook POST.
import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  PostgresAdapter,
  type QueryResult,
  type Selectable,
  type SelectQueryBuilder,
  type SqlBool,
  type UpdateObject,
} from 'kysely';
import type { Db } from './db.js';
import { preparedQuery } from './prepared-query.js';
import type { Database } from './tables.js';

// biome-ignore lint/suspicious/noExplicitAny: works for any Kysely instance, whatever its tables.
type AnyDb = Kysely<any>;

/** True when `db` (a database, transaction or connection) talks to PostgreSQL. */
export function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The claim's inner select: FOR UPDATE SKIP LOCKED on PostgreSQL, as it is on SQLite. */
export function skipLocked<DB, TB extends keyof DB, O>(
  db: AnyDb,
  qb: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return isPostgres(db) ? qb.forUpdate().skipLocked() : qb;
}

/**
 * A read that a write in the same transaction depends on: FOR UPDATE on PostgreSQL (of the table
 * `of` only, when the read joins others it does not change).
 */
export function forUpdate<DB, TB extends keyof DB, O>(
  db: AnyDb,
  qb: SelectQueryBuilder<DB, TB, O>,
  of?: TB & string,
): SelectQueryBuilder<DB, TB, O> {
  return isPostgres(db) ? qb.forUpdate(of) : qb;
}

/** The tables that are queues: rows with an id, an owner and a lease (SPEC §10). */
export type QueueTable = {
  [T in keyof Database]: 'lease_owner' | 'lease_until' | 'id' extends keyof Database[T] ? T : never;
}[keyof Database];

/** A condition on the rows of queue `T`. */
export type QueueWhere<T extends QueueTable> = (eb: ExpressionBuilder<Database, T>) => Expression<SqlBool>;

/** A column of queue `T`, ascending, or with its direction. */
export type QueueOrder<T extends QueueTable> =
  | (keyof Database[T] & string)
  | readonly [keyof Database[T] & string, 'asc' | 'desc'];

export interface ClaimSpec<T extends QueueTable> {
  table: T;
  owner: string;
  now: number;
  leaseUntil: number;
  limit: number;
  /** Which rows are due to be taken. */
  due: QueueWhere<T>;
  /**
   * Also required of a due row: no live lease (an expired lease of any owner is taken over). Off for a
   * queue whose due state is never leased (follow-ups: `scheduled` rows have no owner; expired
   * `claimed` rows are put back by their own statement).
   */
  leaseFree?: boolean;
  /** The claim order, and the order of the rows returned (RETURNING promises none). */
  order: ReadonlyArray<QueueOrder<T>>;
  /** What else a claim writes besides owner and lease (a state, an attempt count). */
  set?: (eb: ExpressionBuilder<Database, T>) => UpdateObject<Database, T, T>;
  /**
   * Checked again by the update: on SQLite the select and the update are one statement under one write
   * lock; on PostgreSQL the locked rows are re-read, so this is what a row must still be when taken.
   */
  guard?: QueueWhere<T>;
}

// The generic insides run on an untyped view of the database: Kysely cannot resolve a column of a
// table that is itself a type parameter. The specs above are what is typed, per queue.
// biome-ignore lint/suspicious/noExplicitAny: see above.
type Untyped = any;

function byOrder<T extends QueueTable>(order: ReadonlyArray<QueueOrder<T>>) {
  const keys = order.map((o) => (typeof o === 'string' ? ([o, 'asc'] as const) : o));
  return (a: Record<string, unknown>, b: Record<string, unknown>): number => {
    for (const [col, dir] of keys) {
      const x = a[col] as string | number;
      const y = b[col] as string | number;
      if (x !== y) return (x < y ? -1 : 1) * (dir === 'desc' ? -1 : 1);
    }
    return 0;
  };
}

/**
 * Claims up to `limit` due rows of one queue for `owner` until `leaseUntil`, in one statement
 * (the shape at the top of this file); returns them in claim order.
 */
export async function claimDue<T extends QueueTable>(
  db: Db,
  spec: ClaimSpec<T>,
): Promise<Selectable<Database[T]>[]> {
  if (spec.limit <= 0) return [];
  const rows = (await claimQuery(db, spec).execute()) as Selectable<Database[T]>[];
  return rows.sort(byOrder(spec.order));
}

/** The claim statement of `spec`, built (not run). */
function claimQuery<T extends QueueTable>(db: Db, spec: ClaimSpec<T>): Untyped {
  const u = db as Untyped as Kysely<Untyped>;
  const { now } = spec;
  let due = u
    .selectFrom(spec.table as string)
    .select('id')
    .where((eb) => spec.due(eb as Untyped));
  if (spec.leaseFree !== false) {
    due = due.where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]));
  }
  for (const o of spec.order) due = typeof o === 'string' ? due.orderBy(o) : due.orderBy(o[0], o[1]);
  due = due.limit(spec.limit);
  let update = u
    .with(
      (wb) => wb('due').materialized(),
      () => skipLocked(u, due),
    )
    .updateTable(spec.table as string)
    .set((eb) => ({ ...spec.set?.(eb as Untyped), lease_owner: spec.owner, lease_until: spec.leaseUntil }))
    .where('id', 'in', (eb: Untyped) => eb.selectFrom('due').select('due.id'));
  if (spec.guard) update = update.where((eb: Untyped) => (spec.guard as QueueWhere<T>)(eb as Untyped));
  return update.returningAll();
}

/**
 * A queue's claim whose only varying values are the owner, the time and the lease: its due
 * condition and extra sets take `now` as an argument instead of closing over it.
 */
export interface PreparedClaimSpec<T extends QueueTable>
  extends Omit<ClaimSpec<T>, 'owner' | 'now' | 'leaseUntil' | 'limit' | 'due' | 'set'> {
  due: (eb: ExpressionBuilder<Database, T>, now: number) => Expression<SqlBool>;
  set?: (eb: ExpressionBuilder<Database, T>, now: number) => UpdateObject<Database, T, T>;
}

/** Limits (the statement's shape: written as a literal, inline-limit.ts) compiled at most per claim. */
const MAX_PREPARED_LIMITS = 256;

/**
 * claimDue for a queue claimed often with few rows (the inbox processor's slices, responder jobs,
 * media downloads): the statement is built and compiled once per limit, and afterwards only its
 * parameters change (prepared-query.ts). Building it anew cost about 0.1 ms of CPU per claim, more
 * than SQLite spent running it, and a lone delivery at a low rate pays several claims.
 */
export function preparedClaim<T extends QueueTable>(
  spec: PreparedClaimSpec<T>,
): (
  db: Db,
  owner: string,
  now: number,
  leaseUntil: number,
  limit: number,
) => Promise<Selectable<Database[T]>[]> {
  const byLimit = new Map<
    number,
    (db: Db, owner: string, now: number, leaseUntil: number) => Promise<QueryResult<unknown>>
  >();
  const sort = byOrder(spec.order);
  const full = (owner: string, now: number, leaseUntil: number, limit: number): ClaimSpec<T> => ({
    ...spec,
    owner,
    now,
    leaseUntil,
    limit,
    due: (eb) => spec.due(eb, now),
    set: spec.set && ((eb) => (spec.set as NonNullable<typeof spec.set>)(eb, now)),
  });
  return async (db, owner, now, leaseUntil, limit) => {
    if (limit <= 0) return [];
    let run = byLimit.get(limit);
    if (!run && byLimit.size < MAX_PREPARED_LIMITS) {
      run = preparedQuery(3, (pdb: Db, o: string, n: number, l: number) =>
        claimQuery(pdb, full(o, n, l, limit)),
      );
      byLimit.set(limit, run);
    }
    if (!run) return claimDue(db, full(owner, now, leaseUntil, limit));
    const { rows } = await run(db, owner, now, leaseUntil);
    return (rows as Selectable<Database[T]>[]).sort(sort);
  };
}

export interface LeaseSpec<T extends QueueTable> {
  table: T;
  /** Only these rows (none: nothing happens). */
  ids?: string[];
  /** Only rows this owner holds. */
  owner?: string;
  /** Only rows whose lease ran out by then (another owner's too). */
  expiredBy?: number;
  /** Only rows still in the state that a lease holds (pending, queued, claimed…). */
  guard?: QueueWhere<T>;
}

function leased<T extends QueueTable>(u: Untyped, spec: LeaseSpec<T>): Untyped {
  let q = u;
  if (spec.ids) q = q.where('id', 'in', spec.ids);
  if (spec.owner !== undefined) q = q.where('lease_owner', '=', spec.owner);
  if (spec.expiredBy !== undefined) q = q.where('lease_until', '<=', spec.expiredBy);
  if (spec.guard) q = q.where((eb: Untyped) => (spec.guard as QueueWhere<T>)(eb));
  return q;
}

/**
 * Gives leases back: the rows are due again at once for any owner (a worker stopping, a start-up
 * after a kill, an owner whose lease ran out). `set` is what else the release writes (a state back).
 * Returns how many rows.
 */
export async function releaseLeases<T extends QueueTable>(
  db: Db,
  spec: LeaseSpec<T> & { set?: UpdateObject<Database, T, T> },
): Promise<number> {
  if (spec.ids?.length === 0) return 0;
  const u = (db as Untyped as Kysely<Untyped>)
    .updateTable(spec.table as string)
    .set({ ...spec.set, lease_owner: null, lease_until: null });
  const res = await leased(u, spec).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/**
 * Keeps `owner`'s leases alive until `leaseUntil` (it still holds the rows). Returns how many. On
 * PostgreSQL a row another transaction has locked right now is passed over (SKIP LOCKED), as in a
 * claim: that transaction is settling or releasing it, and a renewal that waited for it stalled
 * behind it and took part in its deadlocks (issue 18: the renewal of every lease an instance held
 * waited on its slowest settle, and the leases of its sends in flight ran out meanwhile). A row passed
 * over is renewed by the next renewal, a quarter lease later.
 */
export async function renewLeases<T extends QueueTable>(
  db: Db,
  spec: LeaseSpec<T> & { owner: string; leaseUntil: number },
): Promise<number> {
  if (spec.ids?.length === 0) return 0;
  const u = db as Untyped as Kysely<Untyped>;
  if (!isPostgres(u)) {
    const res = await leased(
      u.updateTable(spec.table as string).set({ lease_until: spec.leaseUntil }),
      spec,
    ).executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
  const held = leased(u.selectFrom(spec.table as string).select('id'), spec)
    .forUpdate()
    .skipLocked();
  const res = await leased(
    u
      .with(
        (wb: Untyped) => wb('held').materialized(),
        () => held,
      )
      .updateTable(spec.table as string)
      .set({ lease_until: spec.leaseUntil })
      .where('id', 'in', (eb: Untyped) => eb.selectFrom('held').select('held.id')),
    spec,
  ).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/**
 * Settles one row while `owner` still holds it: writes `set` and gives the lease back. False when the
 * lease was lost meanwhile (nothing changed).
 */
export async function settleHeld<T extends QueueTable>(
  db: Db,
  spec: { table: T; id: string; owner: string; guard?: QueueWhere<T> } & {
    set: (eb: ExpressionBuilder<Database, T>) => UpdateObject<Database, T, T>;
  },
): Promise<boolean> {
  const u = (db as Untyped as Kysely<Untyped>)
    .updateTable(spec.table as string)
    .set((eb: Untyped) => ({ ...spec.set(eb), lease_owner: null, lease_until: null }));
  const res = await leased(u.where('id', '=', spec.id), spec).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
