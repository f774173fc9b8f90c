// Fixture files (byte-exact copies of ../shared/fixtures/whatsapp, signed with TEST_APP_SECRET) and
// helpers to post signed deliveries to a test app and build new ones the way Meta serialises them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { TEST_APP_SECRET, type TestApp } from '../helpers/test-app.js';

export const FIXTURE_DIR = path.resolve(import.meta.dirname, '../fixtures/whatsapp');
export const WEBHOOK = '/webhooks/whatsapp';
export const PNID = '106540352242922';
/**
 * The day the bsuid_* fixtures were sent (their timestamps are 2026-05-05T17:33Z onwards): a test
 * delivering one sets its clock here first, since SPEC §9a makes a timestamp more than a day after
 * the receipt an item error.
 */
export const BSUID_FIXTURE_DAY = '2026-05-05T18:00:00Z';

function signatureTable(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(path.join(FIXTURE_DIR, file), 'utf8').split('\n')) {
    const [name, ...rest] = line.trim().split(/\s+/);
    if (name) out.set(name, rest);
  }
  return out;
}

const SIGNATURES = signatureTable('signatures.txt');

export interface Fixture {
  name: string;
  body: Buffer;
  signature: string;
}

export function fixture(name: string): Fixture {
  const sig = SIGNATURES.get(name)?.[0];
  if (!sig) throw new Error(`no signature for fixture ${name}`);
  return { name, body: readFileSync(path.join(FIXTURE_DIR, name)), signature: sig };
}

/** Every fixture Meta could send that must get 200 (top-level files plus the 200 cases in invalid/). */
export function acceptedFixtureNames(): string[] {
  const top = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));
  return [
    ...top,
    'invalid/messages_missing_metadata.json',
    'invalid/message_missing_id.json',
    'invalid/entry_empty_changes.json',
  ].sort();
}

export function invalidSignatureCases(): { name: string; signature: string; reason: string }[] {
  return [...signatureTable('invalid-signatures.txt')].map(([name, [signature, reason]]) => ({
    name,
    signature: signature as string,
    reason: reason as string,
  }));
}

/** A delivery object serialised like Meta (\uXXXX, \/) and signed with the test secret. */
export function signed(value: unknown, secret = TEST_APP_SECRET): Fixture {
  const text = typeof value === 'string' ? value : toMetaJson(value);
  const body = Buffer.from(text, 'utf8');
  return { name: 'built', body, signature: signBody(body, secret) };
}

export async function post(
  t: TestApp,
  d: { body: Buffer | string; signature?: string | null },
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (d.signature) headers['x-hub-signature-256'] = d.signature;
  return t.daemon.app.app.request(WEBHOOK, { method: 'POST', headers, body: d.body });
}

/** Posts a fixture (or built delivery), expects 200, and processes the inbox. */
export async function deliver(t: TestApp, ...deliveries: Fixture[]): Promise<void> {
  for (const d of deliveries) {
    const res = await post(t, d);
    if (res.status !== 200) throw new Error(`${d.name}: expected 200, got ${res.status} ${await res.text()}`);
  }
  await t.deps.inbox.processor.drain();
}

let seq = 0;

/** A wamid that is unique within the test run. */
export function wamid(tag = 'test'): string {
  seq += 1;
  return `wamid.${Buffer.from(`${tag}-${process.pid}-${seq}`).toString('base64')}`;
}

export interface TextMessage {
  from?: string;
  from_user_id?: string;
  id?: string;
  timestamp: number;
  body?: string;
  type?: string;
  extra?: Record<string, unknown>;
}

/** A `messages` change value with the given contacts and messages. */
export function messagesChange(
  contacts: { wa_id?: string; user_id?: string; name?: string; username?: string }[],
  messages: TextMessage[],
  pnid = PNID,
): Record<string, unknown> {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: pnid },
      contacts: contacts.map((c) => ({
        profile: { name: c.name ?? 'Customer', ...(c.username ? { username: c.username } : {}) },
        ...(c.wa_id ? { wa_id: c.wa_id } : {}),
        ...(c.user_id ? { user_id: c.user_id } : {}),
      })),
      messages: messages.map((m) => ({
        ...(m.from ? { from: m.from } : {}),
        ...(m.from_user_id ? { from_user_id: m.from_user_id } : {}),
        id: m.id ?? wamid(),
        timestamp: String(m.timestamp),
        type: m.type ?? 'text',
        ...(m.type === undefined || m.type === 'text' ? { text: { body: m.body ?? 'hello' } } : {}),
        ...(m.extra ?? {}),
      })),
    },
  };
}

export function statusChange(
  statuses: { id: string; status: string; timestamp: number; recipient_id?: string; extra?: object }[],
  pnid = PNID,
): Record<string, unknown> {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: pnid },
      statuses: statuses.map((s) => ({
        id: s.id,
        status: s.status,
        timestamp: String(s.timestamp),
        recipient_id: s.recipient_id ?? '4917000000001',
        ...(s.extra ?? {}),
      })),
    },
  };
}

/** A whole delivery: one entry per item of `entries`, each a list of changes. */
export function deliveryOf(...entries: Record<string, unknown>[][]): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: entries.map((changes) => ({ id: '102290129340398', changes })),
  };
}
