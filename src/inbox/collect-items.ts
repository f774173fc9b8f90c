// The collect phase: every entry, change and item of a delivery parsed on its own, so a bad one is
// recorded as an item error without sinking the others. Nothing here touches the database.
// SPEC §9a: an item nested deeper than 64 levels, or with a timestamp outside [received − 30 days,
// received + 1 day], is an item error (kept in the raw body, its effects skipped).
import { toIso } from '../lib/clock.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/json-limits.js';
import {
  CORE_MESSAGE_KEYS,
  change as changeSchema,
  entry as entrySchema,
  type InboundMessage,
  inboundMessage,
  type MessageCore,
  messageCore,
  messagesValue,
  type SenderContact,
  senderContact,
  statusObject,
  templateQualityValue,
  templateStatusValue,
  userIdUpdate,
} from '../webhook/payload.js';
import {
  type AddError,
  describe,
  type PendingEvent,
  type PendingIdentityUpdate,
  type PendingMessage,
  type PendingStatus,
} from './delivery-items.js';

const DAY_MS = 86_400_000;
/** How far before and after the delivery's own receipt a Meta timestamp may lie (SPEC §9a). */
export const TIMESTAMP_WINDOW = { beforeMs: 30 * DAY_MS, afterMs: DAY_MS } as const;

/** Checks that hold for every item whatever its kind: bounded nesting, a plausible timestamp. */
interface ItemChecks {
  /** When the delivery was accepted (a reprocessed row is judged by its own day). */
  receivedAt: number;
  addError: AddError;
}

function tooDeep(raw: unknown, loc: string, c: ItemChecks): boolean {
  if (!nestsDeeperThan(raw, MAX_JSON_DEPTH)) return false;
  c.addError(loc, 'too_deep', `nested deeper than ${MAX_JSON_DEPTH} levels; skipped`);
  return true;
}

function outsideWindow(ms: number, loc: string, c: ItemChecks): boolean {
  if (ms >= c.receivedAt - TIMESTAMP_WINDOW.beforeMs && ms <= c.receivedAt + TIMESTAMP_WINDOW.afterMs) {
    return false;
  }
  c.addError(
    loc,
    'timestamp_out_of_range',
    `timestamp ${toIso(ms)} is outside [received − 30 days, received + 1 day] ` +
      `(received ${toIso(c.receivedAt)}); skipped`,
  );
  return true;
}

/**
 * Parses every entry and change on its own, so a bad one is recorded without sinking the others.
 * `between` is awaited between items: parsing a 1,000-message delivery in one go held the event loop
 * for 50–120 ms of CPU (SPEC §9a allows 50 ms at a time), and every turn it holds is a turn in which
 * node accepts no new connection.
 */
export async function collect(
  entries: unknown[],
  addError: AddError,
  receivedAt: number,
  between: () => Promise<void> = async () => undefined,
) {
  const checks: ItemChecks = { receivedAt, addError };
  const messages: PendingMessage[] = [];
  const statuses: PendingStatus[] = [];
  const events: PendingEvent[] = [];
  const identityUpdates: PendingIdentityUpdate[] = [];
  for (const [i, rawEntry] of entries.entries()) {
    const entry = entrySchema.safeParse(rawEntry);
    if (!entry.success) {
      addError(`entry[${i}]`, 'invalid_entry', describe(entry.error));
      continue;
    }
    for (const [j, rawChange] of entry.data.changes.entries()) {
      await between();
      const loc = `entry[${i}].changes[${j}]`;
      const change = changeSchema.safeParse(rawChange);
      if (!change.success) {
        addError(loc, 'invalid_change', describe(change.error));
        continue;
      }
      const { field, value } = change.data;
      if (field === 'messages' || field === 'smb_message_echoes') {
        await collectMessagesChange(
          value,
          loc,
          { i, j, field },
          { messages, statuses, events },
          checks,
          between,
        );
        continue;
      }
      // Other fields are stored whole (as JSON): one too deep is skipped before anything walks it.
      if (tooDeep(value, `${loc}.value`, checks)) continue;
      if (field === 'user_id_update') {
        collectIdentityUpdates(value, `${loc}.value`, (entry.data.time ?? 0) * 1000, identityUpdates, checks);
      }
      const event: PendingEvent = {
        entryIndex: i,
        changeIndex: j,
        field,
        event: eventName(field, value),
        payload: value,
      };
      if (entry.data.time !== undefined) event.entryTime = entry.data.time;
      if (field === 'message_template_status_update') {
        const t = templateStatusValue.safeParse(value);
        if (t.success) event.template = t.data;
        else addError(`${loc}.value`, 'invalid_template_update', describe(t.error));
      }
      if (field === 'message_template_quality_update') {
        const q = templateQualityValue.safeParse(value);
        if (q.success) event.quality = q.data;
        else addError(`${loc}.value`, 'invalid_template_update', describe(q.error));
      }
      events.push(event);
    }
  }
  return { messages, statuses, events, identityUpdates };
}

function collectIdentityUpdates(
  value: unknown,
  loc: string,
  entryTime: number,
  out: PendingIdentityUpdate[],
  checks: ItemChecks,
): void {
  const { addError } = checks;
  const list = (value as { user_id_update?: unknown } | null)?.user_id_update;
  if (!Array.isArray(list)) {
    addError(loc, 'invalid_user_id_update', 'user_id_update: expected an array');
    return;
  }
  for (const [k, raw] of list.entries()) {
    const uloc = `${loc}.user_id_update[${k}]`;
    const u = userIdUpdate.safeParse(raw);
    if (!u.success) addError(uloc, 'invalid_user_id_update', describe(u.error));
    else if (u.data.timestamp === undefined || !outsideWindow(u.data.timestamp, uloc, checks)) {
      out.push({ update: u.data, loc: uloc, at: entryTime });
    }
  }
}

/** The message as far as it can be read: a key of an unexpected type is dropped, not the message. */
function parseMessage(
  raw: unknown,
  mloc: string,
  addError: AddError,
): (Partial<InboundMessage> & MessageCore) | undefined {
  const full = inboundMessage.safeParse(raw);
  if (full.success) return full.data;
  const core = messageCore.safeParse(raw);
  if (!core.success) {
    addError(mloc, 'invalid_message', describe(core.error));
    return undefined;
  }
  const bad = new Set(
    full.error.issues
      .map((i) => i.path[0])
      .filter((k): k is string => typeof k === 'string' && !CORE_MESSAGE_KEYS.has(k)),
  );
  const kept = Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).filter(([k]) => !bad.has(k)),
  );
  const again = inboundMessage.safeParse(kept);
  addError(
    mloc,
    'unexpected_message_fields',
    `stored without ${[...bad].map((k) => `"${k}"`).join(', ')}: ${describe(full.error)}`,
  );
  if (again.success) return again.data;
  const { id, from, from_user_id, timestamp, type } = core.data;
  return { id, from, from_user_id, timestamp, type };
}

async function collectMessagesChange(
  value: unknown,
  loc: string,
  at: { i: number; j: number; field: string },
  out: { messages: PendingMessage[]; statuses: PendingStatus[]; events: PendingEvent[] },
  checks: ItemChecks,
  between: () => Promise<void>,
): Promise<void> {
  const { addError } = checks;
  const v = messagesValue.safeParse(tolerantArrays(value, `${loc}.value`, addError));
  if (!v.success) {
    const noMetadata = v.error.issues.some((issue) => issue.path[0] === 'metadata');
    addError(
      `${loc}.value`,
      noMetadata ? 'missing_metadata' : 'invalid_change',
      noMetadata
        ? 'the messages change has no metadata.phone_number_id, so its business number is unknown'
        : describe(v.error),
    );
    return;
  }
  const pnid = v.data.metadata.phone_number_id;
  const senders: SenderContact[] = [];
  for (const c of v.data.contacts ?? []) {
    await between();
    if (nestsDeeperThan(c, MAX_JSON_DEPTH)) continue;
    const s = senderContact.safeParse(c);
    if (s.success) senders.push(s.data);
  }
  const valueError = firstError(v.data.errors);
  const echo = at.field === 'smb_message_echoes';
  const list = echo ? v.data.message_echoes : v.data.messages;
  for (const [k, raw] of (list ?? []).entries()) {
    await between();
    const mloc = `${loc}.value.${echo ? 'message_echoes' : 'messages'}[${k}]`;
    if (tooDeep(raw, mloc, checks)) continue;
    const msg = parseMessage(raw, mloc, addError);
    if (!msg || outsideWindow(msg.timestamp, mloc, checks)) continue;
    if (!msg.id) {
      addError(mloc, 'missing_message_id', 'the message has no "id", so it cannot be deduplicated; skipped');
      continue;
    }
    out.messages.push({
      kind: echo ? 'echo' : 'message',
      pnid,
      msg: msg as PendingMessage['msg'],
      raw,
      senders,
      ...(valueError ? { valueError } : {}),
      loc: mloc,
      order: out.messages.length,
    });
  }
  for (const [k, raw] of (v.data.statuses ?? []).entries()) {
    await between();
    const sloc = `${loc}.value.statuses[${k}]`;
    if (tooDeep(raw, sloc, checks)) continue;
    const s = statusObject.safeParse(raw);
    if (!s.success) addError(sloc, 'invalid_status', describe(s.error));
    else if (!outsideWindow(s.data.timestamp, sloc, checks)) {
      out.statuses.push({ status: s.data, raw, order: out.statuses.length });
    }
  }
  if (v.data.errors && v.data.errors.length > 0) {
    // The change is kept whole as the errors' record; one holding a too-deep part keeps only errors.
    const payload = nestsDeeperThan(value, MAX_JSON_DEPTH)
      ? { metadata: v.data.metadata, errors: v.data.errors }
      : value;
    if (!tooDeep(payload, `${loc}.value.errors`, checks)) {
      out.events.push({ entryIndex: at.i, changeIndex: at.j, field: 'messages', event: 'errors', payload });
    }
  }
}

const ITEM_ARRAYS = ['contacts', 'messages', 'statuses', 'errors', 'message_echoes'] as const;

/**
 * The change's value with each item list that is not an array dropped (an item error each), so that
 * one wrong-typed list does not sink the others and the change's metadata (SPEC §9a).
 */
function tolerantArrays(value: unknown, loc: string, addError: AddError): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  const wrong = ITEM_ARRAYS.filter((k) => v[k] !== undefined && !Array.isArray(v[k]));
  if (wrong.length === 0) return value;
  for (const k of wrong) addError(`${loc}.${k}`, 'invalid_field', `${k}: expected an array; skipped`);
  return Object.fromEntries(Object.entries(v).filter(([k]) => !(wrong as string[]).includes(k)));
}

function firstError(
  errors: unknown[] | undefined,
): { code: number; title?: string; message?: string } | undefined {
  const e = errors?.[0] as { code?: unknown; title?: unknown; message?: unknown } | undefined;
  if (!e || typeof e.code !== 'number') return undefined;
  return {
    code: e.code,
    ...(typeof e.title === 'string' ? { title: e.title } : {}),
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
  };
}

/** A short name for a non-message webhook: its `event`, or for user preferences "category:value". */
function eventName(field: string, value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.event === 'string') return v.event;
  if (field === 'user_preferences' && Array.isArray(v.user_preferences)) {
    const p = v.user_preferences[0] as Record<string, unknown> | undefined;
    if (p && typeof p.category === 'string' && typeof p.value === 'string') return `${p.category}:${p.value}`;
  }
  return null;
}
