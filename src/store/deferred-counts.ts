// Hot counter rows (outbound_pending_counts, conversation_state_counts, insight_rollups: rows per
// agent and period, touched by nearly every send, enqueue and conversation move) written at the end of a PostgreSQL transaction,
// in one global order, instead of where the change happens. Taken mid-transaction they were held while
// the transaction went on to lock outbox and conversation rows, and two instances met in opposite
// orders: a deadlock every second or two on three instances (issue 18), each costing the server's
// deadlock_timeout and stalling settles and lease renewals past their leases. At the end, in sorted
// order, a transaction holding a counter row waits for nothing but other counters taken in the same
// order, so counters close no cycle. SQLite has one writer and no such cycles: there the write happens
// at once, as before. withTransaction (transactions.ts) opens the ledger and flushes it before COMMIT;
// a savepoint rolled back takes its entries back with it.
import type { Db } from './db.js';
import { engineOf } from './dialect.js';

/** One counter row's pending changes: a summed delta and any other writes of that row, in order. */
interface Entry {
  delta: number;
  apply: ((db: Db, delta: number) => Promise<void>) | null;
  writes: ((db: Db) => Promise<void>)[];
}

type Ledger = Map<string, Entry>;

const ledgers = new WeakMap<Db, Ledger>();

/** Starts collecting counter changes of `trx` (PostgreSQL only: elsewhere they are written at once). */
export function openLedger(trx: Db): void {
  if (engineOf(trx) === 'postgres') ledgers.set(trx, new Map());
}

function entryOf(ledger: Ledger, key: string): Entry {
  let entry = ledger.get(key);
  if (!entry) {
    entry = { delta: 0, apply: null, writes: [] };
    ledger.set(key, entry);
  }
  return entry;
}

/**
 * Adds `delta` to the counter row named `key` (unique across tables: the table name first): at the
 * end of the transaction when `db` has a ledger, else now. `apply` writes a summed delta.
 */
export async function bumpCounter(
  db: Db,
  key: string,
  delta: number,
  apply: (db: Db, delta: number) => Promise<void>,
): Promise<void> {
  const ledger = ledgers.get(db);
  if (!ledger) {
    await apply(db, delta);
    return;
  }
  const entry = entryOf(ledger, key);
  entry.delta += delta;
  entry.apply = apply;
}

/** Any other write of the hot row named `key` (a read-modify-write): at the end too, in order. */
export async function writeCounterRow(db: Db, key: string, write: (db: Db) => Promise<void>): Promise<void> {
  const ledger = ledgers.get(db);
  if (!ledger) {
    await write(db);
    return;
  }
  entryOf(ledger, key).writes.push(write);
}

/** Writes the collected changes in key order (the one order every transaction takes them in). */
export async function flushLedger(trx: Db): Promise<void> {
  const ledger = ledgers.get(trx);
  if (!ledger) return;
  ledgers.delete(trx);
  for (const key of [...ledger.keys()].sort()) {
    const entry = ledger.get(key) as Entry;
    if (entry.apply && entry.delta !== 0) await entry.apply(trx, entry.delta);
    for (const write of entry.writes) await write(trx);
  }
}

type Mark = Map<string, { delta: number; writes: number }>;

/** The ledger's state, to put back when a savepoint is rolled back (its changes never happened). */
export function ledgerMark(trx: Db): Mark | undefined {
  const ledger = ledgers.get(trx);
  return ledger
    ? new Map([...ledger].map(([k, e]) => [k, { delta: e.delta, writes: e.writes.length }]))
    : undefined;
}

export function rollbackLedger(trx: Db, mark: Mark | undefined): void {
  const ledger = ledgers.get(trx);
  if (!ledger || !mark) return;
  for (const [key, entry] of ledger) {
    const before = mark.get(key);
    if (before === undefined) ledger.delete(key);
    else {
      entry.delta = before.delta;
      entry.writes.length = before.writes;
    }
  }
}
