// Reading the audit log of root actions (SPEC §8 management/audit), newest first. Writers record
// entries in their own transactions through store/audit-repo.ts.
import { toIso } from '../lib/clock.js';
import { auditRepo } from '../store/audit-repo.js';
import type { Db } from '../store/db.js';
import type { AuditLogTable } from '../store/tables.js';

export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  details: unknown;
  at: string;
}

export function toAuditEntry(row: AuditLogTable): AuditEntry {
  return {
    id: row.id,
    actor: row.actor,
    action: row.action,
    details: JSON.parse(row.details),
    at: toIso(row.at),
  };
}

/** Entries newest first, strictly before `before` (the last entry of the previous page). */
export function listAuditEntries(
  db: Db,
  limit: number,
  before?: { at: number; id: string },
): Promise<AuditLogTable[]> {
  return auditRepo.page(db, { limit, before });
}
