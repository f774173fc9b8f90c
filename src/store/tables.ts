// Row types of every table, as Kysely sees them. Times are integer milliseconds since the epoch
// (portable to PostgreSQL bigint); JSON columns are TEXT holding JSON.
import type { Generated } from 'kysely';

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  tier: 'standard' | 'root';
  token_hash: string;
  /** First characters of the token, to tell tokens apart in listings without revealing them. */
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  actor: string;
  action: string;
  details: string;
  at: number;
}

export interface FoundationTables {
  settings: SettingsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}

// Feature groups add their tables below and join them into Database.
export type Database = FoundationTables;

export type { Generated };
