// The collect phase: every entry, change and item of a delivery parsed on its own, so a bad one is
// recorded as an item error without sinking the others. Nothing here touches the database.
import {
  CORE_MESSAGE_KEYS,
  change as changeSchema,
  entry as entrySchema,
  type InboundMessage,
  inboundMessage,
  type MessageCore,
  messageCore,
  messagesValue,
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

/** Parses every entry and change on its own, so a bad one is recorded without sinking the others. */
export function collect(entries: unknown[], addError: AddError) {
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
      const loc = `entry[${i}].changes[${j}]`;
      const change = changeSchema.safeParse(rawChange);
      if (!change.success) {
        addError(loc, 'invalid_change', describe(change.error));
        continue;
      }
      const { field, value } = change.data;
      if (field === 'messages' || field === 'smb_message_echoes') {
        collectMessagesChange(value, loc, { i, j, field }, { messages, statuses, events }, addError);
        continue;
      }
      if (field === 'user_id_update') {
        collectIdentityUpdates(
          value,
          `${loc}.value`,
          (entry.data.time ?? 0) * 1000,
          identityUpdates,
          addError,
        );
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
  addError: AddError,
): void {
  const list = (value as { user_id_update?: unknown } | null)?.user_id_update;
  if (!Array.isArray(list)) {
    addError(loc, 'invalid_user_id_update', 'user_id_update: expected an array');
    return;
  }
  for (const [k, raw] of list.entries()) {
    const u = userIdUpdate.safeParse(raw);
    if (u.success) out.push({ update: u.data, loc: `${loc}.user_id_update[${k}]`, at: entryTime });
    else addError(`${loc}.user_id_update[${k}]`, 'invalid_user_id_update', describe(u.error));
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

function collectMessagesChange(
  value: unknown,
  loc: string,
  at: { i: number; j: number; field: string },
  out: { messages: PendingMessage[]; statuses: PendingStatus[]; events: PendingEvent[] },
  addError: AddError,
): void {
  const v = messagesValue.safeParse(value);
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
  const senders = (v.data.contacts ?? []).flatMap((c) => {
    const s = senderContact.safeParse(c);
    return s.success ? [s.data] : [];
  });
  const valueError = firstError(v.data.errors);
  const echo = at.field === 'smb_message_echoes';
  const list = echo ? v.data.message_echoes : v.data.messages;
  for (const [k, raw] of (list ?? []).entries()) {
    const mloc = `${loc}.value.${echo ? 'message_echoes' : 'messages'}[${k}]`;
    const msg = parseMessage(raw, mloc, addError);
    if (!msg) continue;
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
    const s = statusObject.safeParse(raw);
    if (s.success) out.statuses.push({ status: s.data, raw, order: out.statuses.length });
    else addError(`${loc}.value.statuses[${k}]`, 'invalid_status', describe(s.error));
  }
  if (v.data.errors && v.data.errors.length > 0) {
    out.events.push({
      entryIndex: at.i,
      changeIndex: at.j,
      field: 'messages',
      event: 'errors',
      payload: value,
    });
  }
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
