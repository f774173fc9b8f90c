// Dashboard sessions (SPEC §13): stored by the hash of their secret, read together with the token they
// stand for so that a revoked token ends its sessions at once.
import type { Db } from './db.js';
import type { DashboardSessionsTable } from './tables.js';
import type { TokenRow } from './tokens-repo.js';

export type DashboardSessionRow = DashboardSessionsTable;

export const dashboardSessionsRepo = Object.freeze({
  async insert(db: Db, row: DashboardSessionRow): Promise<void> {
    await db.insertInto('dashboard_sessions').values(row).execute();
  },

  /** The session's token, when the session exists, has not expired and its token is not revoked. */
  async findLive(db: Db, idHash: string, now: number): Promise<TokenRow | undefined> {
    return db
      .selectFrom('dashboard_sessions')
      .innerJoin('api_tokens', 'api_tokens.id', 'dashboard_sessions.token_id')
      .selectAll('api_tokens')
      .where('dashboard_sessions.id_hash', '=', idHash)
      .where('dashboard_sessions.expires_at', '>', now)
      .where('api_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
  },

  async remove(db: Db, idHash: string): Promise<void> {
    await db.deleteFrom('dashboard_sessions').where('id_hash', '=', idHash).execute();
  },

  async purgeExpired(db: Db, now: number): Promise<number> {
    const res = await db.deleteFrom('dashboard_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  },
});
