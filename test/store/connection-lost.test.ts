// A PostgreSQL connection terminated under the daemon (an administrator's pg_terminate_backend, a
// server restart) while it is checked out between two statements of a transaction: the transaction
// fails and the pool goes on with a new connection. pg-pool listens for errors on idle connections
// only, and this one's unheard 'error' event used to crash the process (CI, test:pg: a test database
// dropped WITH (FORCE) under a daemon mid-transaction). Vitest fails a run on an uncaught error, so
// this test fails without the listener every pooled connection now gets (store/postgres.ts).
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgres, type PostgresHandle } from '../../src/store/db.js';
import { withTransaction } from '../../src/store/transactions.js';
import { createPostgresTestDatabase, engines, type PostgresTestDatabase } from '../helpers/engines.js';

let created: PostgresTestDatabase | undefined;
let handle: PostgresHandle | undefined;
afterEach(async () => {
  await handle?.close();
  await created?.drop();
  handle = undefined;
  created = undefined;
});

describe.skipIf(!engines.includes('postgres'))('a pooled PostgreSQL connection terminated', () => {
  it('mid-transaction, between two statements: the transaction fails, the process lives, the pool goes on', async () => {
    created = await createPostgresTestDatabase();
    const lost: Error[] = [];
    handle = openPostgres(created.url, { onConnectionError: (err) => lost.push(err) });
    const admin = new pg.Client({ connectionString: created.url });
    await admin.connect();
    try {
      const outcome = withTransaction(handle.db, async (trx) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]?.pid;
        // Between two statements, nothing in flight on the connection: the server ends it now.
        await admin.query('select pg_terminate_backend($1)', [pid]);
        await new Promise((r) => setTimeout(r, 300));
        await sql`select 1`.execute(trx);
      });
      await expect(outcome).rejects.toThrow();
      expect(lost.some((e) => (e as Error & { code?: string }).code === '57P01')).toBe(true);
      const again = await sql<{ n: number }>`select 2 as n`.execute(handle.db);
      expect(Number(again.rows[0]?.n)).toBe(2);
    } finally {
      await admin.end();
    }
  });
});
