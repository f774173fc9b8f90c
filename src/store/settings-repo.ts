// Key/value settings the daemon writes for itself (generated secrets, one-time markers).
import type { Db } from './db.js';

export const settingsRepo = Object.freeze({
  async get(db: Db, key: string): Promise<string | undefined> {
    const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  },

  async put(db: Db, key: string, value: string, now: number): Promise<void> {
    await db
      .insertInto('settings')
      .values({ key, value, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
      .execute();
  },

  /** Stores `value` only if the key is not set yet; returns whichever value is stored afterwards. */
  async putIfAbsent(db: Db, key: string, value: string, now: number): Promise<string> {
    await db
      .insertInto('settings')
      .values({ key, value, updated_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await settingsRepo.get(db, key)) as string;
  },
});
