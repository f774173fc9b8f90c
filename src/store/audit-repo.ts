// The audit log of root actions (config changes, recovery, token changes).
import type { Db } from './db.js';
import type { AuditLogTable } from './tables.js';

export const auditRepo = Object.freeze({
  async record(db: Db, entry: AuditLogTable): Promise<void> {
    await db.insertInto('audit_log').values(entry).execute();
  },

  async list(db: Db, limit: number): Promise<AuditLogTable[]> {
    return db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  },
});
