// Reads a test app's tables back as plain rows, for assertions, on either engine (SQL with SQLite's
// `?` placeholders; on PostgreSQL through helpers/sync-sql.ts, so reads stay synchronous).
import SQLite from 'better-sqlite3';
import { pgQuerySync } from '../helpers/sync-sql.js';
import type { TestApp } from '../helpers/test-app.js';

export interface MessageView {
  wamid: string;
  conversation_id: string | null;
  contact_id: string | null;
  direction: string;
  type: string;
  text: string | null;
  status: string | null;
  error_code: number | null;
  error_title: string | null;
  context_wamid: string | null;
  timestamp: number;
  payload: string;
}

export function rows<T = Record<string, unknown>>(t: TestApp, sql: string, ...params: unknown[]): T[] {
  const handle = t.deps.database;
  if (handle.engine === 'sqlite') {
    if (handle.sqlite.open) return handle.sqlite.prepare(sql).all(...params) as T[];
    // The daemon was stopped (its handle closed): read its file afresh.
    const reader = new SQLite(handle.path, { readonly: true, fileMustExist: true });
    try {
      return reader.prepare(sql).all(...params) as T[];
    } finally {
      reader.close();
    }
  }
  return pgQuerySync(t.databaseUrl as string, sql, params).rows as T[];
}

export function one<T = Record<string, unknown>>(t: TestApp, sql: string, ...params: unknown[]): T {
  const r = rows<T>(t, sql, ...params)[0];
  if (r === undefined) throw new Error(`no row for: ${sql}`);
  return r;
}

/** Runs a write (update, delete, insert) and returns how many rows it changed. */
export function exec(t: TestApp, sql: string, ...params: unknown[]): number {
  const handle = t.deps.database;
  if (handle.engine === 'sqlite') return handle.sqlite.prepare(sql).run(...params).changes;
  return pgQuerySync(t.databaseUrl as string, sql, params).rowCount;
}

export const messages = (t: TestApp) => rows<MessageView>(t, 'select * from messages order by timestamp, id');
export const contacts = (t: TestApp) => rows(t, 'select * from contacts order by id');
export const conversations = (t: TestApp) => rows(t, 'select * from conversations order by id');
export const statusEvents = (t: TestApp) => rows(t, 'select * from status_events order by timestamp, id');
export const webhookEvents = (t: TestApp) => rows(t, 'select * from webhook_events order by id');
export const webhookErrors = (t: TestApp) =>
  rows<{ location: string; code: string; message: string }>(t, 'select * from webhook_errors order by id');
export const inboxStates = (t: TestApp) =>
  rows<{ state: string }>(t, 'select state from inbox order by id').map((r) => r.state);
export const identities = (t: TestApp, contactId: string) =>
  rows<{ kind: string; value: string }>(
    t,
    'select kind, value from contact_identities where contact_id = ? order by kind, value',
    contactId,
  ).map((r) => `${r.kind}:${r.value}`);

/**
 * Makes `op` on `table` fail when `when` holds (SQL over NEW, valid on both engines), like a database
 * fault would: a trigger that raises. Returns the undo. `name` must be identifier-safe.
 */
export function refuseWrites(
  t: TestApp,
  name: string,
  table: string,
  op: 'INSERT' | 'UPDATE',
  when: string,
  message = `injected fault on ${name}`,
): () => void {
  const handle = t.deps.database;
  if (handle.engine === 'sqlite') {
    handle.sqlite.exec(
      `create temp trigger ${name} before ${op} on ${table} when ${when} begin select raise(abort, '${message}'); end`,
    );
    return () => handle.sqlite.exec(`drop trigger ${name}`);
  }
  exec(
    t,
    `create function ${name}() returns trigger language plpgsql as $$ begin if ${when} then raise exception '${message}'; end if; return new; end $$`,
  );
  exec(t, `create trigger ${name} before ${op} on ${table} for each row execute function ${name}()`);
  return () => {
    exec(t, `drop trigger ${name} on ${table}`);
    exec(t, `drop function ${name}()`);
  };
}

/** Makes inserting a message with this text fail. `body` must be an identifier-safe word. */
export function failInsertOfText(t: TestApp, body: string): () => void {
  return refuseWrites(
    t,
    `fail_${body}`,
    'messages',
    'INSERT',
    `new.text = '${body}'`,
    `injected fault on ${body}`,
  );
}
