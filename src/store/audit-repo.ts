// The audit log of root actions (config changes, recovery, token changes).
import type { Db } from './db.js';
import type { AuditLogTable } from './tables.js';

export const auditRepo = Object.freeze({
  async record(db: Db, entry: AuditLogTable): Promise<void> {
    await db.insertInto('audit_log').values(entry).execute();
  },

  /** Newest first; `before` is the (at, id) of the last entry of the previous page. */
  async page(db: Db, opts: { limit: number; before?: { at: number; id: string } }): Promise<AuditLogTable[]> {
    let q = db.selectFrom('audit_log').selectAll();
    const before = opts.before;
    if (before) {
      q = q.where((eb) =>
        eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]),
      );
    }
    return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
  },
});
