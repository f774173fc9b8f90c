// API tokens: only a SHA-256 hash of each token is stored (tokens are 256-bit random, so a fast hash
// is enough; there is nothing to brute-force).
import type { Db } from './db.js';
import type { ApiTokensTable } from './tables.js';

export type TokenRow = ApiTokensTable;

export const tokensRepo = Object.freeze({
  async insert(db: Db, row: TokenRow): Promise<void> {
    await db.insertInto('api_tokens').values(row).execute();
  },

  async findActiveByHash(db: Db, hash: string): Promise<TokenRow | undefined> {
    return db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  },

  async findByHash(db: Db, hash: string): Promise<TokenRow | undefined> {
    return db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  },

  async list(db: Db): Promise<TokenRow[]> {
    return db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
  },

  async count(db: Db): Promise<number> {
    const row = await db
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async revoke(db: Db, id: string, now: number): Promise<boolean> {
    const res = await db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },

  async touch(db: Db, id: string, now: number): Promise<void> {
    await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  },
});
