// One inbox row → its effects, inside the caller's transaction: contacts, conversations and messages
// (in message-timestamp order), status events, other webhook fields and the template cache. A change
// or item that cannot be used is recorded in webhook_errors and skipped; the rest goes on.
// Over 300 lines: the collect phase (every change parsed item by item, per-item errors) and the apply
// phase share the pending-item types. Splitting the collect phase out is the next step once the
// concurrent work on this file (real traffic, media, hardening) has settled.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import type { IdSource } from '../lib/ids.js';
import { recordInboundMedia } from '../media/inbound-media.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import type { WebhookErrorsTable } from '../store/tables.js';
import { templatesRepo } from '../store/templates-repo.js';
import { webhookLogRepo } from '../store/webhook-log-repo.js';
import {
  CORE_MESSAGE_KEYS,
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
  type TemplateQualityValue,
  type TemplateStatusValue,
  templateQualityValue,
  templateStatusValue,
  type UserIdUpdate,
  userIdUpdate,
} from '../webhook/payload.js';
import { resolveContact, resolveGroupContact } from './contacts.js';
import { ItemError, PermanentDeliveryError } from './delivery-errors.js';
import { adoptLaterEchoes, storeEcho } from './echoes.js';
import { followIdentityChange, type IdentityContext, idsFromSystemBody } from './identity-changes.js';
import {
  contextWamid,
  messageError,
  messageRole,
  messageText,
  replyId,
  revisionTarget,
} from './inbound-fields.js';
import { onInboundMessage } from './on-inbound-message.js';
import { applyRevisions } from './revisions.js';
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
  /** A customer's message (`messages`) or the business's own from the Business app (echo). */
  kind: 'message' | 'echo';
  pnid: string;
  msg: Partial<InboundMessage> & MessageCore & { id: string };
  raw: unknown;
  senders: SenderContact[];
  /** The change's value-level error, kept on a message that carries none of its own. */
  valueError?: { code: number; title?: string; message?: string };
  loc: string;
  order: number;
}

interface PendingIdentityUpdate {
  update: UserIdUpdate;
  loc: string;
  at: number;
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
  quality?: TemplateQualityValue;
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

  // BSUID changes first, so the messages of this delivery find the contact they now belong to.
  for (const u of work.identityUpdates) {
    try {
      await followIdentityChange(
        trx,
        {
          wa_id: u.update.wa_id,
          previous_user_id: u.update.user_id.previous,
          current_user_id: u.update.user_id.current,
          source: 'user_id_update',
          at: u.update.timestamp ?? u.at,
        },
        {
          ids: ctx.ids,
          now: ctx.now,
          logger: ctx.logger,
          warn: (code, message) => addError(u.loc, code, message),
        },
      );
    } catch (err) {
      if (!(err instanceof ItemError)) throw err;
      addError(u.loc, err.code, err.message);
    }
  }

  // A batch is applied whole, in message-timestamp order (stable for equal timestamps).
  work.messages.sort((a, b) => a.msg.timestamp - b.msg.timestamp || a.order - b.order);
  for (const m of work.messages) {
    try {
      const stored =
        m.kind === 'echo'
          ? await storeEcho(trx, m, {
              ids: ctx.ids,
              now: ctx.now,
              config: ctx.config,
              warn: (code, message) => addError(m.loc, code, message),
            })
          : await storeInboundMessage(trx, m, ctx, addError);
      if (stored) summary.messages += 1;
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
    const outcome = await recordStatus(trx, s.status, s.raw, {
      ids: ctx.ids,
      now: ctx.now,
      config: ctx.config,
      inboxId: row.id,
    });
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
      content_hash: contentHash(e.field, e.payload, e.entryTime),
    });
    if (e.template) {
      const previous = await templatesRepo.get(
        trx,
        e.template.message_template_name,
        e.template.message_template_language,
      );
      await templatesRepo.upsertIfNewer(trx, {
        name: e.template.message_template_name,
        language: e.template.message_template_language,
        status: e.template.event,
        category: e.template.message_template_category ?? null,
        template_id: e.template.message_template_id ?? null,
        reason: e.template.reason ?? null,
        updated_at: e.entryTime !== undefined ? e.entryTime * 1000 : row.received_at,
      });
      if (fresh && previous?.status !== e.template.event) {
        await recordEvent(
          trx,
          {
            type: 'template.status_changed',
            agent_uuid: null,
            data: {
              name: e.template.message_template_name,
              language: e.template.message_template_language,
              status: e.template.event,
              previous_status: previous?.status ?? null,
              reason: e.template.reason ?? null,
              template_id: e.template.message_template_id ?? null,
            },
          },
          ctx,
        );
      }
    }
    if (e.quality) {
      await templatesRepo.setQuality(trx, {
        name: e.quality.message_template_name,
        language: e.quality.message_template_language,
        quality: e.quality.new_quality_score.toUpperCase(),
        template_id: e.quality.message_template_id ?? null,
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

/** Stores one inbound message and its effects; false when its wamid was already stored. */
async function storeInboundMessage(
  trx: Db,
  m: PendingMessage,
  ctx: ProcessContext,
  addError: AddError,
): Promise<boolean> {
  const { msg } = m;
  if (await messagesRepo.findByWamid(trx, msg.id)) return false;
  const cctx: IdentityContext = {
    ids: ctx.ids,
    now: ctx.now,
    logger: ctx.logger,
    warn: (code, message) => addError(m.loc, code, message),
  };
  const contact = await senderOf(trx, m, cctx);
  // A group's messages go to the group's conversation (its own contact); the sender stays on the row.
  const party = msg.group_id ? await resolveGroupContact(trx, msg.group_id, cctx) : contact;
  const target = revisionTarget(msg);
  const original = target ? await messagesRepo.findByWamid(trx, target) : undefined;
  const conversationId =
    original && original.conversation_id !== null
      ? original.conversation_id
      : (
          await onInboundMessage(
            trx,
            {
              phone_number_id: m.pnid,
              contact: party,
              type: msg.type,
              timestamp: msg.timestamp,
              text: messageText(msg),
              referral: msg.referral ?? null,
              reply_id: replyId(msg),
            },
            { ids: ctx.ids, now: ctx.now, config: ctx.config },
          )
        ).conversation_id;
  const error = messageError(msg, m.valueError);
  const inserted = await messagesRepo.insertIfNew(trx, {
    id: ctx.ids.next(),
    wamid: msg.id,
    conversation_id: conversationId,
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
  // An edit or revoke changes its original; an original that arrives after them catches up.
  if (inserted) await applyRevisions(trx, target ?? msg.id);
  if (inserted && conversationId !== null && !msg.group_id && messageRole(msg.type) === 'customer') {
    await adoptLaterEchoes(
      trx,
      { conversation_id: conversationId, contact, phone_number_id: m.pnid, at: msg.timestamp },
      { ids: ctx.ids, now: ctx.now, config: ctx.config },
    );
  }
  if (inserted) {
    await recordInboundMedia(
      trx,
      msg,
      { phone_number_id: m.pnid, conversation_id: conversationId },
      { ids: ctx.ids, now: ctx.now },
    );
    await recordEvent(
      trx,
      {
        type: 'message.received',
        conversation_id: conversationId,
        data: {
          wamid: msg.id,
          phone_number_id: m.pnid,
          wa_id: contact.wa_id,
          contact_id: contact.id,
          type: msg.type,
          text: messageText(msg),
          timestamp: new Date(msg.timestamp).toISOString(),
          ...(target ? { revises: target } : {}),
          ...(msg.group_id ? { group_id: msg.group_id } : {}),
        },
      },
      ctx,
    );
  }
  return inserted;
}

/**
 * The contact a message belongs to: its `from` / `from_user_id`, else the only sender in
 * `value.contacts`; an identity notice links the old and new ids to one contact (identity-changes.ts).
 */
async function senderOf(trx: Db, m: PendingMessage, cctx: IdentityContext) {
  const { msg } = m;
  const named = Boolean(msg.from || msg.from_user_id);
  const sender = named
    ? m.senders.find(
        (s) => (msg.from && s.wa_id === msg.from) || (msg.from_user_id && s.user_id === msg.from_user_id),
      )
    : m.senders.length === 1
      ? m.senders[0]
      : undefined;
  const wa_id = named ? msg.from : sender?.wa_id;
  const user_id = named ? msg.from_user_id : sender?.user_id;
  const system = msg.type === 'system' ? msg.system : undefined;
  const identityNotice = system?.type === 'user_changed_number' || system?.type === 'user_changed_user_id';
  const resolved =
    wa_id || user_id || !identityNotice
      ? await resolveContact(
          trx,
          { wa_id, user_id, profile_name: sender?.profile?.name, username: sender?.profile?.username },
          cctx,
        )
      : undefined;
  if (!system || !identityNotice) return resolved as Awaited<ReturnType<typeof resolveContact>>;
  const byBody = system.type === 'user_changed_user_id' ? idsFromSystemBody(system.body) : {};
  return followIdentityChange(
    trx,
    {
      ...(resolved ? { sender: resolved } : {}),
      new_wa_id: system.type === 'user_changed_number' ? system.wa_id : undefined,
      previous_user_id: system.previous_user_id ?? byBody.previous,
      current_user_id: system.user_id ?? byBody.current,
      source: 'system_message',
      at: msg.timestamp,
    },
    cctx,
  );
}

/** One record per content of a non-message field, whichever delivery carries it (SPEC §3a). */
function contentHash(field: string, value: unknown, entryTime: number | undefined): string {
  // The entry time is part of the content: the same update sent again later is a new event.
  return createHash('sha256')
    .update(`${field}\n${entryTime ?? ''}\n`)
    .update(JSON.stringify(value))
    .digest('hex');
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

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`)
    .join('; ');
}
