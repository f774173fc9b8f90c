// Which instances are alive on a shared PostgreSQL database (SPEC §10): each daemon holds a
// session-level advisory lock named after its instance id, on a connection of its own, for its whole
// life. The server drops it when the session ends, so a killed daemon's lock is gone as soon as its
// connection is, and no stall of a live one (a loaded box, lock waits) ever makes it look dead. A
// lease that ran out says only "not renewed lately"; a row being *sent* is taken over from another
// instance only when that instance is gone too (outbox-repo.ts), since sending it again can duplicate
// a message (issue 18: live instances' sends were taken over during multi-second stalls and sent twice).
// SQLite needs none of this: one daemon per file (instance-lock.ts).
import { type Expression, type SqlBool, sql } from 'kysely';
import pg from 'pg';
import { AppError } from '../lib/app-error.js';
import { redactUrl } from './postgres.js';

/** The advisory lock space of instance presence (first key); the second is hashtext(instance id). */
export const PRESENCE_LOCK_SPACE = 1851881073;

export interface InstancePresence {
  release(): Promise<void>;
}

/**
 * Takes `instance`'s presence lock on a connection of its own. A previous run of the same instance
 * (killed a moment ago) may still hold it until the server notices its connection is gone: waited for
 * up to `waitMs`, then a clear error (another daemon runs under the same instance id).
 */
export async function holdInstancePresence(
  url: string,
  instance: string,
  options: { waitMs?: number; onLost?: (err: Error) => void } = {},
): Promise<InstancePresence> {
  const client = new pg.Client({ connectionString: url, application_name: `native-whatsapp ${instance}` });
  // Without a listener a dropped connection would crash the process; the lock is gone with it.
  client.on('error', (err) => options.onLost?.(err));
  await client.connect();
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  for (;;) {
    const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [
      PRESENCE_LOCK_SPACE,
      instance,
    ]);
    if (res.rows[0]?.ok) break;
    if (Date.now() > deadline) {
      await client.end().catch(() => undefined);
      throw new AppError(
        'database_unavailable',
        `another daemon is running as instance ${instance} on ${redactUrl(url)}; give each instance its own INSTANCE_ID`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    async release() {
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * True (as SQL, inside a statement on `table`) when the instance named in `table.lease_owner` holds its
 * presence lock on this database: it is alive, whatever its leases say.
 */
export function ownerAlive(table: string): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database()) and l.classid = ${sql.lit(PRESENCE_LOCK_SPACE)}::oid and l.objsubid = 2 and l.objid::bigint = (hashtext(${sql.ref(`${table}.lease_owner`)})::bigint & 4294967295))`;
}
