// Follows a customer's identity changes (SPEC §3a): `system` messages `user_changed_number` /
// `user_changed_user_id` (which may carry neither `from` nor `from_user_id`, and no contacts) and the
// `user_id_update` field. The previous and the new ids end up on one contact with one history: when
// both already had a contact (a message from the new id came before the notice), the two are merged.
// Each change is recorded once (contact_identity_changes) and logged as `contact.identity_changed`.
import type { Logger } from 'pino';
import { recordEvent } from '../events/record-event.js';
import { type ContactRow, contactsRepo, type IdentityKind } from '../store/contacts-repo.js';
import type { Db } from '../store/db.js';
import { applyPatch, type ContactContext } from './contacts.js';
import { ItemError } from './delivery-errors.js';

export interface IdentityChangeInput {
  /** The contact the notice came from, when it named a sender (`from` / `from_user_id`). */
  sender?: ContactRow;
  /** The phone number that stays (user_id_update's `wa_id`). */
  wa_id?: string;
  /** The new phone number (user_changed_number's `system.wa_id`). */
  new_wa_id?: string;
  previous_user_id?: string;
  current_user_id?: string;
  source: 'system_message' | 'user_id_update';
  /** Meta's time of the change, ms. */
  at: number;
}

export interface IdentityContext extends ContactContext {
  logger?: Logger;
}

/** Previous and new BSUID named in a system body: "User X changed from A to B". */
export function idsFromSystemBody(body: string | undefined): { previous?: string; current?: string } {
  const m = body ? /changed from (\S+) to (\S+?)\.?\s*$/.exec(body) : null;
  return m ? { previous: m[1], current: m[2] } : {};
}

/** Applies one identity change; returns the contact that now holds every id named in it. */
export async function followIdentityChange(
  trx: Db,
  change: IdentityChangeInput,
  ctx: IdentityContext,
): Promise<ContactRow> {
  const find = (kind: IdentityKind, value: string | undefined) =>
    value ? contactsRepo.findByIdentity(trx, kind, value) : Promise.resolve(undefined);
  const candidates = [
    change.sender,
    await find('user_id', change.previous_user_id),
    await find('wa_id', change.wa_id),
    await find('user_id', change.current_user_id),
    await find('wa_id', change.new_wa_id),
  ].filter((c): c is ContactRow => c !== undefined);

  let contact = candidates[0];
  const fresh = contact === undefined;
  if (!contact) {
    const user = change.current_user_id ?? change.previous_user_id;
    const wa = change.new_wa_id ?? change.wa_id;
    if (!user && !wa) {
      throw new ItemError('unknown_sender', 'the identity change names no phone number and no user id');
    }
    contact = {
      id: ctx.ids.next(),
      wa_id: wa ?? null,
      user_id: user ?? null,
      username: null,
      profile_name: null,
      opted_out_at: null,
      opted_in_at: null,
      created_at: ctx.now,
      updated_at: ctx.now,
      group_id: null,
    };
    await contactsRepo.insert(trx, contact);
  }

  // Two contacts for one customer: the later one's history moves onto the first.
  const merged: string[] = [];
  let kept = contact;
  for (const other of candidates) {
    if (other.id === contact.id || merged.includes(other.id)) continue;
    await contactsRepo.mergeInto(trx, other.id, contact.id, ctx.now);
    merged.push(other.id);
    kept = mergeFields(kept, other);
  }

  const before = { wa_id: contact.wa_id, user_id: contact.user_id };
  for (const [kind, value] of [
    ['wa_id', change.wa_id],
    ['user_id', change.previous_user_id],
    ['wa_id', change.new_wa_id],
    ['user_id', change.current_user_id],
  ] as const) {
    if (value) await contactsRepo.addIdentity(trx, kind, value, contact.id, ctx.now);
  }
  const patch: Partial<ContactRow> =
    merged.length > 0
      ? { profile_name: kept.profile_name, username: kept.username, opted_out_at: kept.opted_out_at }
      : {};
  if (change.current_user_id) patch.user_id = change.current_user_id;
  if (change.new_wa_id) patch.wa_id = change.new_wa_id;
  contact = await applyPatch(trx, contact, patch, ctx.now);

  const changes: { kind: IdentityKind; previous: string | null; current: string }[] = [];
  // A contact made or merged here is a change too; a redelivered update that changes nothing is not.
  const moved = fresh || merged.length > 0;
  if (change.current_user_id && contact.user_id && (moved || contact.user_id !== before.user_id)) {
    changes.push({
      kind: 'user_id',
      previous: change.previous_user_id ?? before.user_id ?? null,
      current: contact.user_id,
    });
  }
  if (change.new_wa_id && contact.wa_id && (moved || contact.wa_id !== before.wa_id)) {
    changes.push({ kind: 'wa_id', previous: before.wa_id, current: contact.wa_id });
  }
  for (const c of changes) await identityChanged(trx, contact, c, change, ctx);
  return contact;
}

/**
 * The one place a `contact.identity_changed` happens. It is kept on the contact (shown by GET
 * .../runtime/contacts/:contact_id), recorded in the domain event log in this same transaction, and
 * logged.
 */
async function identityChanged(
  trx: Db,
  contact: ContactRow,
  c: { kind: IdentityKind; previous: string | null; current: string },
  change: IdentityChangeInput,
  ctx: IdentityContext,
): Promise<void> {
  await contactsRepo.addIdentityChange(trx, {
    id: ctx.ids.next(),
    contact_id: contact.id,
    kind: c.kind,
    previous: c.previous,
    current: c.current,
    source: change.source,
    at: change.at,
    created_at: ctx.now,
  });
  await recordEvent(
    trx,
    {
      type: 'contact.identity_changed',
      conversation_id: null,
      agent_uuid: null,
      data: {
        contact_id: contact.id,
        kind: c.kind,
        previous: c.previous,
        current: c.current,
        source: change.source,
        wa_id: contact.wa_id,
        user_id: contact.user_id,
      },
    },
    { ids: ctx.ids, now: ctx.now },
  );
  ctx.logger?.info(
    { event: 'contact.identity_changed', contact_id: contact.id, kind: c.kind, source: change.source },
    `contact ${contact.id}: ${c.kind} changed; the old and new ids share one history`,
  );
}

/** Keeps what the surviving contact lacks from the merged one (name, opt-out state). */
function mergeFields(into: ContactRow, from: ContactRow): ContactRow {
  const optedOut =
    from.opted_out_at !== null && (into.opted_out_at === null || from.opted_out_at > into.opted_out_at)
      ? from.opted_out_at
      : into.opted_out_at;
  return {
    ...into,
    profile_name: into.profile_name ?? from.profile_name,
    username: into.username ?? from.username,
    opted_out_at: optedOut,
  };
}
