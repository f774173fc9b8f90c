// Transactions and savepoints for the services that own them (STYLE: one command, one transaction).
// SAVEPOINT / ROLLBACK TO / RELEASE are standard SQL, valid on SQLite and PostgreSQL alike.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { flushLedger, ledgerMark, openLedger, rollbackLedger } from './deferred-counts.js';
import { engineOf } from './dialect.js';
import { heldSqliteConnection } from './raw-sqlite.js';
import { settingsRepo } from './settings-repo.js';

/**
 * How often a transaction PostgreSQL chose as a deadlock's victim (or, under a stricter isolation, a
 * serialization failure) is run again before its error is the caller's.
 */
const CONCURRENCY_ATTEMPTS = 6;
/** SQLSTATEs that say "run the whole transaction again": serialization_failure, deadlock_detected. */
const RUN_AGAIN = new Set(['40001', '40P01']);

/** True when `err` is PostgreSQL rolling a transaction back for concurrency alone, nothing in its own work. */
export function lostToConcurrency(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RUN_AGAIN.has(code);
}

/**
 * Runs `begin` (one whole transaction) and, when PostgreSQL rolled it back as a deadlock's victim,
 * again, up to CONCURRENCY_ATTEMPTS times after a short jittered pause. On several instances a
 * deadlock is an ordinary outcome of concurrent transactions (the server breaks the cycle by failing
 * one of them) and PostgreSQL's answer is to run that transaction again; without it a send result,
 * a follow-up's outcome or a lease renewal was lost to it (issue 18). SQLite never answers so: its
 * one writer cannot deadlock. `fn` runs again from the start, so it must leave nothing behind outside
 * the database that a second run would double (collect into locals, apply after the commit).
 */
async function runAgainOnConcurrency<T>(begin: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await begin();
    } catch (err) {
      if (attempt >= CONCURRENCY_ATTEMPTS || !lostToConcurrency(err)) throw err;
      // Jitter so that the two sides of the cycle do not meet again in the same order at once.
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 20 * attempt));
    }
  }
}

/**
 * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws; run again
 * when PostgreSQL chose it as a deadlock's victim (runAgainOnConcurrency).
 */
export function withTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return asDurableCommit(db, () =>
    runAgainOnConcurrency(() => db.transaction().execute((trx) => withLedger(trx, fn))),
  );
}

/** Runs `fn` with the transaction's counter ledger open, written last (store/deferred-counts.ts). */
async function withLedger<T>(trx: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  openLedger(trx);
  const result = await fn(trx);
  await flushLedger(trx);
  return result;
}

/**
 * Runs `fn` in one transaction whose commit is not fsynced by itself (SQLite WAL with
 * `synchronous=NORMAL` for this transaction only; the connection is back to FULL afterwards). For work
 * that is redone from durable input when its commit is lost: the inbox processor, whose rows stay
 * `pending` in the same lost commit. Nothing outside can act on such a commit before it is durable:
 * in WAL mode the next fsynced commit (an outbox claim, the next ingress commit, makeDurable before
 * events leave the process) makes every earlier frame durable with it, and a kill -9 loses nothing
 * (the frames are in the OS already); only a power loss can take back the last few processing
 * commits, which the rows still pending then redo.
 * Saves one fsync per processing slice, which on a slow disk is most of its time. On PostgreSQL the same
 * holds with `synchronous_commit = off` for this transaction: the commit returns before its WAL is
 * flushed, a crash of the server can lose it (the rows stay pending and are redone), never corrupt it.
 */
export interface RedoableOptions<T> {
  /**
   * True when losing the commit only makes the same thing happen again under the same identities: the
   * event delivery worker's claims and settles (a lost one sends the same event, under the same
   * `webhook-id`, again: at least once, as promised). Such a commit needs no makeDurable barrier
   * before a send, since nothing it wrote leaves the process under an identity a redo would change.
   * Given the transaction's result, for a commit that only sometimes records something new (a settle
   * that disabled a subscription records `runtime.status_changed`). Default false.
   */
  repeatsOnLoss?: boolean | ((result: T) => boolean);
}

export async function withRedoableTransaction<T>(
  db: Db,
  fn: (trx: Db) => Promise<T>,
  options: RedoableOptions<T> = {},
): Promise<T> {
  let result: T;
  if (engineOf(db) === 'postgres') {
    result = await runAgainOnConcurrency(() =>
      db.transaction().execute(async (trx) => {
        await sql`set local synchronous_commit = off`.execute(trx);
        return withLedger(trx, fn);
      }),
    );
  } else {
    result = await db.connection().execute(async (conn) => {
      await sql`pragma synchronous = NORMAL`.execute(conn);
      try {
        return await conn.transaction().execute((trx) => fn(trx));
      } finally {
        await sql`pragma synchronous = FULL`.execute(conn);
      }
    });
  }
  const { repeatsOnLoss = false } = options;
  if (!(typeof repeatsOnLoss === 'function' ? repeatsOnLoss(result) : repeatsOnLoss)) {
    durabilityOf(db).redoable += 1;
  }
  return result;
}

/**
 * What this process knows of its commits' durability, per database: how many redoable commits it made,
 * and how many of them a durable commit has covered since (a durable commit makes every earlier commit
 * durable with it: SQLite's WAL and PostgreSQL's are each one log, flushed in order). A new process
 * starts with one uncovered, for the commits a killed predecessor left unsynced.
 */
interface Durability {
  redoable: number;
  covered: number;
}
const durability = new WeakMap<object, Durability>();

function durabilityOf(db: Db): Durability {
  const key = db.getExecutor().adapter;
  let d = durability.get(key);
  if (!d) {
    d = { redoable: 1, covered: 0 };
    durability.set(key, d);
  }
  return d;
}

/**
 * Runs `commit`, one durable commit (fsynced on SQLite, synchronous on PostgreSQL), and counts every
 * redoable commit made before it started as durable once it succeeded. For commits made outside
 * withTransaction: the ingress group commit (inbox-repo.ts).
 */
export async function asDurableCommit<T>(db: Db, commit: () => Promise<T>): Promise<T> {
  const d = durabilityOf(db);
  const before = d.redoable;
  const result = await commit();
  d.covered = Math.max(d.covered, before);
  return result;
}

/** The settings key the durability barrier writes (its value: the time of the last barrier). */
export const DURABILITY_BARRIER_KEY = 'durability.barrier';

/**
 * Makes every commit this process could read so far durable before anything read from it leaves the
 * process (an event POSTed to a subscriber, pushed down a live stream): a redoable commit (the inbox
 * processor's, which records the events) is not fsynced by itself, and a power loss could take it
 * back after its event went out; the delivery would then be processed again into events under new
 * ids, and the receiver would see the same change twice. On SQLite nothing is written while a durable
 * commit (an ingress group commit, under load every few milliseconds) has covered every redoable one;
 * otherwise one small durable write is. On PostgreSQL always: another instance's redoable commits,
 * visible here, are unknown to this process, and a durable commit flushes the one log past them.
 */
export async function makeDurable(db: Db, now: number): Promise<void> {
  const d = durabilityOf(db);
  if (engineOf(db) === 'sqlite' && d.covered >= d.redoable) return;
  await withTransaction(db, (trx) => settingsRepo.put(trx, DURABILITY_BARRIER_KEY, String(now), now));
}

/**
 * Runs `fn` inside a savepoint of an open transaction: its writes are undone when it throws (and the
 * error is rethrown), while the surrounding transaction goes on. Names must be SQL identifiers.
 */
export async function withSavepoint<T>(trx: Db, name: string, fn: (trx: Db) => Promise<T>): Promise<T> {
  const run = savepointCommands(trx, name);
  await run.savepoint();
  const mark = ledgerMark(trx);
  let result: T;
  try {
    result = await fn(trx);
  } catch (err) {
    await run.rollback();
    await run.release();
    rollbackLedger(trx, mark);
    throw err;
  }
  await run.release();
  return result;
}

/**
 * The three commands of a savepoint. On SQLite inside a transaction they run on the held connection
 * directly (raw-sqlite.ts): the inbox processor takes a savepoint per delivery, and through Kysely
 * each command was compiled anew.
 */
function savepointCommands(trx: Db, name: string) {
  const held = heldSqliteConnection(trx);
  if (held) {
    const id = `"${name.replaceAll('"', '""')}"`;
    const exec = (text: string) => {
      held.prepare(text).run();
      return Promise.resolve();
    };
    return {
      savepoint: () => exec(`savepoint ${id}`),
      rollback: () => exec(`rollback to savepoint ${id}`),
      release: () => exec(`release savepoint ${id}`),
    };
  }
  return {
    savepoint: async () => void (await sql`savepoint ${sql.id(name)}`.execute(trx)),
    rollback: async () => void (await sql`rollback to savepoint ${sql.id(name)}`.execute(trx)),
    release: async () => void (await sql`release savepoint ${sql.id(name)}`.execute(trx)),
  };
}
