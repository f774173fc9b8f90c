// Reads a test app's tables back as plain rows, for assertions.
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
  return t.deps.database.sqlite.prepare(sql).all(...params) as T[];
}

export function one<T = Record<string, unknown>>(t: TestApp, sql: string, ...params: unknown[]): T {
  const r = t.deps.database.sqlite.prepare(sql).get(...params) as T | undefined;
  if (r === undefined) throw new Error(`no row for: ${sql}`);
  return r;
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
