// One inbox row → its effects, inside the caller's transaction: contacts, conversations and messages
// (in message-timestamp order), status events, other webhook fields and the template cache. A change
// or item that cannot be used is recorded in webhook_errors and skipped; the rest goes on.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import type { WebhookErrorsTable } from '../store/tables.js';
import { templatesRepo } from '../store/templates-repo.js';
import { webhookLogRepo } from '../store/webhook-log-repo.js';
import {
  change as changeSchema,
  delivery as deliverySchema,
  entry as entrySchema,
  type InboundMessage,
  inboundMessage,
  type MessageCore,
  messageCore,
  messagesValue,
  type SenderContact,
  type StatusObject,
  senderContact,
  statusObject,
  type TemplateStatusValue,
  templateStatusValue,
} from '../webhook/payload.js';
import { applyIdentityChange, type ContactContext, resolveContact } from './contacts.js';
import { ItemError, PermanentDeliveryError } from './delivery-errors.js';
import { contextWamid, messageError, messageText } from './inbound-fields.js';
import { onInboundMessage } from './on-inbound-message.js';
import { statusRank } from './status-progress.js';
import { recordStatus } from './statuses.js';

export interface ProcessContext {
  ids: IdSource;
  now: number;
  config: Config;
  logger: Logger;
}

export interface DeliverySummary {
  messages: number;
  duplicates: number;
  statuses: number;
  events: number;
  errors: number;
}

interface PendingMessage {
  pnid: string;
  msg: Partial<InboundMessage> & MessageCore & { id: string };
  raw: unknown;
  senders: SenderContact[];
  loc: string;
  order: number;
}

interface PendingStatus {
  status: StatusObject;
  raw: unknown;
  order: number;
}

interface PendingEvent {
  entryIndex: number;
  changeIndex: number;
  field: string;
  event: string | null;
  payload: unknown;
  template?: TemplateStatusValue;
  entryTime?: number;
}

export async function processDelivery(
  trx: Db,
  row: { id: string; body: string; received_at: number; processed_at: number | null },
  ctx: ProcessContext,
): Promise<DeliverySummary> {
  let json: unknown;
  try {
    json = JSON.parse(row.body);
  } catch {
    throw new PermanentDeliveryError('the stored body is not JSON');
  }
  const parsed = deliverySchema.safeParse(json);
  if (!parsed.success)
    throw new PermanentDeliveryError('the stored body is not a whatsapp_business_account delivery');

  const errors: WebhookErrorsTable[] = [];
  const addError = (location: string, code: string, message: string) =>
    errors.push({ id: ctx.ids.next(), inbox_id: row.id, location, code, message, created_at: ctx.now });

  const work = collect(parsed.data.entry, addError);
  const summary: DeliverySummary = { messages: 0, duplicates: 0, statuses: 0, events: 0, errors: 0 };

  // A batch is applied whole, in message-timestamp order (stable for equal timestamps).
  work.messages.sort((a, b) => a.msg.timestamp - b.msg.timestamp || a.order - b.order);
  for (const m of work.messages) {
    try {
      if (await storeInboundMessage(trx, m, ctx, addError)) summary.messages += 1;
      else summary.duplicates += 1;
    } catch (err) {
      if (!(err instanceof ItemError)) throw err;
      addError(m.loc, err.code, err.message);
    }
  }

  work.statuses.sort(
    (a, b) =>
      a.status.timestamp - b.status.timestamp ||
      statusRank(a.status.status) - statusRank(b.status.status) ||
      a.order - b.order,
  );
  for (const s of work.statuses) {
    const outcome = await recordStatus(trx, s.status, s.raw, { ids: ctx.ids, now: ctx.now, inboxId: row.id });
    if (outcome === 'new') summary.statuses += 1;
  }

  for (const e of work.events) {
    const fresh = await webhookLogRepo.recordEvent(trx, {
      id: ctx.ids.next(),
      inbox_id: row.id,
      entry_index: e.entryIndex,
      change_index: e.changeIndex,
      field: e.field,
      event: e.event,
      payload: JSON.stringify(e.payload),
      received_at: row.received_at,
    });
    if (e.template) {
      await templatesRepo.upsertIfNewer(trx, {
        name: e.template.message_template_name,
        language: e.template.message_template_language,
        status: e.template.event,
        category: e.template.message_template_category ?? null,
        template_id: e.template.message_template_id ?? null,
        reason: e.template.reason ?? null,
        updated_at: e.entryTime !== undefined ? e.entryTime * 1000 : row.received_at,
      });
    }
    if (fresh) {
      summary.events += 1;
      const level = e.field === 'messages' || e.field === 'account_update' ? 'warn' : 'info';
      ctx.logger[level](
        { event: 'webhook.field', inbox_id: row.id, field: e.field, name: e.event },
        `webhook ${e.field}${e.event ? ` ${e.event}` : ''} stored`,
      );
    }
  }

  // A row processed before (replayed or reprocessed) replaces its old error records.
  if (row.processed_at !== null) await webhookLogRepo.clearErrors(trx, row.id);
  await webhookLogRepo.recordErrors(trx, errors);
  summary.errors = errors.length;
  if (errors.length > 0) {
    ctx.logger.warn(
      {
        event: 'inbox.item_errors',
        inbox_id: row.id,
        errors: errors.map((e) => ({ location: e.location, code: e.code })),
      },
      `${errors.length} part(s) of delivery ${row.id} could not be processed and were skipped`,
    );
  }
  return summary;
}

type AddError = (location: string, code: string, message: string) => void;

/** Parses every entry and change on its own, so a bad one is recorded without sinking the others. */
function collect(entries: unknown[], addError: AddError) {
  const messages: PendingMessage[] = [];
  const statuses: PendingStatus[] = [];
  const events: PendingEvent[] = [];
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
      if (field === 'messages') {
        collectMessagesChange(value, loc, { i, j }, { messages, statuses, events }, addError);
        continue;
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
      events.push(event);
    }
  }
  return { messages, statuses, events };
}

function collectMessagesChange(
  value: unknown,
  loc: string,
  at: { i: number; j: number },
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
  for (const [k, raw] of (v.data.messages ?? []).entries()) {
    const mloc = `${loc}.value.messages[${k}]`;
    let msg: Partial<InboundMessage> & MessageCore;
    const full = inboundMessage.safeParse(raw);
    if (full.success) {
      msg = full.data;
    } else {
      // Keep what can be read (id, sender, time, type) rather than lose the message.
      const core = messageCore.safeParse(raw);
      if (!core.success) {
        addError(mloc, 'invalid_message', describe(core.error));
        continue;
      }
      const { id, from, from_user_id, timestamp, type } = core.data;
      msg = { id, from, from_user_id, timestamp, type };
      addError(mloc, 'unexpected_message_fields', `stored without its content: ${describe(full.error)}`);
    }
    if (!msg.id) {
      addError(mloc, 'missing_message_id', 'the message has no "id", so it cannot be deduplicated; skipped');
      continue;
    }
    out.messages.push({
      pnid,
      msg: msg as PendingMessage['msg'],
      raw,
      senders,
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

/** Stores one inbound message and its effects; false when its wamid was already stored. */
async function storeInboundMessage(
  trx: Db,
  m: PendingMessage,
  ctx: ProcessContext,
  addError: AddError,
): Promise<boolean> {
  const { msg } = m;
  if (await messagesRepo.findByWamid(trx, msg.id)) return false;
  // The sender is matched by id, never by position: a batch carries several contacts.
  const sender = m.senders.find(
    (s) => (msg.from && s.wa_id === msg.from) || (msg.from_user_id && s.user_id === msg.from_user_id),
  );
  const cctx: ContactContext = {
    ids: ctx.ids,
    now: ctx.now,
    warn: (code, message) => addError(m.loc, code, message),
  };
  let contact = await resolveContact(
    trx,
    {
      wa_id: msg.from,
      user_id: msg.from_user_id,
      profile_name: sender?.profile?.name,
      username: sender?.profile?.username,
    },
    cctx,
  );
  const system = msg.type === 'system' ? msg.system : undefined;
  if (system?.type === 'user_changed_number' || system?.type === 'user_changed_user_id') {
    contact = await applyIdentityChange(
      trx,
      contact,
      {
        new_wa_id: system.type === 'user_changed_number' ? system.wa_id : undefined,
        new_user_id: system.user_id,
        previous_user_id: system.previous_user_id,
      },
      cctx,
    );
  }
  const outcome = await onInboundMessage(
    trx,
    {
      phone_number_id: m.pnid,
      contact,
      type: msg.type,
      timestamp: msg.timestamp,
      text: messageText(msg),
      referral: msg.referral ?? null,
    },
    { ids: ctx.ids, now: ctx.now, config: ctx.config },
  );
  const error = messageError(msg);
  return messagesRepo.insertIfNew(trx, {
    id: ctx.ids.next(),
    wamid: msg.id,
    conversation_id: outcome.conversation_id,
    contact_id: contact.id,
    phone_number_id: m.pnid,
    direction: 'inbound',
    type: msg.type,
    text: messageText(msg),
    status: 'received',
    error_code: error.code,
    error_title: error.title,
    context_wamid: contextWamid(msg),
    timestamp: msg.timestamp,
    created_at: ctx.now,
    payload: JSON.stringify(m.raw),
  });
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

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`)
    .join('; ');
}
