// Finds or creates the contact behind a message and keeps its identities: a customer may come with a
// phone number (wa_id), a business-scoped user id (BSUID), or both, and may change either. Every value
// seen stays linked to one contact, so the old number or BSUID keeps resolving to the same history.
import type { IdSource } from '../lib/ids.js';
import { type ContactRow, contactsRepo } from '../store/contacts-repo.js';
import type { Db } from '../store/db.js';
import { ItemError } from './delivery-errors.js';

export interface SenderIdentity {
  wa_id?: string;
  user_id?: string;
  profile_name?: string;
  username?: string;
}

export interface ContactContext {
  ids: IdSource;
  now: number;
  /** Problems worth recording that do not stop the message (e.g. two contacts for one sender). */
  warn: (code: string, message: string) => void;
}

export async function resolveContact(
  trx: Db,
  sender: SenderIdentity,
  ctx: ContactContext,
): Promise<ContactRow> {
  const wa = sender.wa_id || undefined;
  const user = sender.user_id || undefined;
  if (!wa && !user)
    throw new ItemError('unknown_sender', 'the message has neither "from" nor "from_user_id"');

  let byWa = wa ? await contactsRepo.findByIdentity(trx, 'wa_id', wa) : undefined;
  let byUser = user ? await contactsRepo.findByIdentity(trx, 'user_id', user) : undefined;

  if (!byWa && !byUser) {
    const row: ContactRow = {
      id: ctx.ids.next(),
      wa_id: wa ?? null,
      user_id: user ?? null,
      username: sender.username ?? null,
      profile_name: sender.profile_name ?? null,
      opted_out_at: null,
      opted_in_at: null,
      created_at: ctx.now,
      updated_at: ctx.now,
      group_id: null,
    };
    // Insert-first (SPEC §10): two instances creating the same new customer at once both get here;
    // the unique wa_id / user_id lets one insert, the other (PostgreSQL waits for the first to
    // commit) inserts nothing and takes the winner's contact below, with no error and no retry.
    if (await contactsRepo.insertIfAbsent(trx, row)) {
      if (wa) await contactsRepo.addIdentity(trx, 'wa_id', wa, row.id, ctx.now);
      if (user) await contactsRepo.addIdentity(trx, 'user_id', user, row.id, ctx.now);
      return row;
    }
    byWa = wa ? await contactsRepo.findByIdentity(trx, 'wa_id', wa) : undefined;
    byUser = user ? await contactsRepo.findByIdentity(trx, 'user_id', user) : undefined;
    if (!byWa && !byUser) {
      throw new Error(`contact for ${wa ?? user} exists without its identity; retried later`);
    }
  }

  // The phone number decides when the two identities point at different contacts.
  const contact = (byWa ?? byUser) as ContactRow;
  if (byWa && byUser && byWa.id !== byUser.id) {
    ctx.warn(
      'identity_conflict',
      `wa_id ${wa} and user_id ${user} belong to different contacts; the message goes to the wa_id's contact`,
    );
  }
  const patch: Partial<ContactRow> = {};
  // A value seen for the first time is the customer's current one; an old value that still maps
  // here (a message from the previous number) does not switch the current one back.
  if (wa && !byWa && (await contactsRepo.addIdentity(trx, 'wa_id', wa, contact.id, ctx.now))) {
    patch.wa_id = wa;
  }
  if (user && !byUser && (await contactsRepo.addIdentity(trx, 'user_id', user, contact.id, ctx.now))) {
    patch.user_id = user;
  }
  if (sender.profile_name && sender.profile_name !== contact.profile_name) {
    patch.profile_name = sender.profile_name;
  }
  if (sender.username && sender.username !== contact.username) patch.username = sender.username;
  return applyPatch(trx, contact, patch, ctx.now);
}

export interface IdentityChange {
  /** The new phone number (system.wa_id on user_changed_number). */
  new_wa_id?: string;
  /** The new BSUID (system.user_id). */
  new_user_id?: string;
  /** The BSUID before the change (system.previous_user_id). */
  previous_user_id?: string;
}

/**
 * Follows a `user_changed_number` / `user_changed_user_id` system message: the new values become the
 * contact's current ones and the old ones keep pointing at it. A new value that already belongs to
 * another contact is left there (merging histories is an operator decision) and reported.
 */
export async function applyIdentityChange(
  trx: Db,
  contact: ContactRow,
  change: IdentityChange,
  ctx: ContactContext,
): Promise<ContactRow> {
  const patch: Partial<ContactRow> = {};
  if (change.previous_user_id) {
    await linkOrReport(trx, 'user_id', change.previous_user_id, contact, ctx);
  }
  if (change.new_wa_id && (await linkOrReport(trx, 'wa_id', change.new_wa_id, contact, ctx))) {
    patch.wa_id = change.new_wa_id;
  }
  if (change.new_user_id && (await linkOrReport(trx, 'user_id', change.new_user_id, contact, ctx))) {
    patch.user_id = change.new_user_id;
  }
  return applyPatch(trx, contact, patch, ctx.now);
}

/** True when the value now points at `contact` (newly linked or already). */
async function linkOrReport(
  trx: Db,
  kind: 'wa_id' | 'user_id',
  value: string,
  contact: ContactRow,
  ctx: ContactContext,
): Promise<boolean> {
  if (await contactsRepo.addIdentity(trx, kind, value, contact.id, ctx.now)) return true;
  const owner = await contactsRepo.findByIdentity(trx, kind, value);
  if (owner && owner.id !== contact.id) {
    ctx.warn(
      'identity_conflict',
      `${kind} ${value} already belongs to another contact (${owner.id}); not moved to ${contact.id}`,
    );
    return false;
  }
  return true;
}

/**
 * The contact that stands for a WhatsApp group (SPEC §3a): the group's conversation belongs to it, so
 * it never mixes with a participant's one-to-one conversation (one active conversation per contact
 * and number).
 */
export async function resolveGroupContact(
  trx: Db,
  groupId: string,
  ctx: ContactContext,
): Promise<ContactRow> {
  const found = await contactsRepo.findByGroup(trx, groupId);
  if (found) return found;
  const row: ContactRow = {
    id: ctx.ids.next(),
    wa_id: null,
    user_id: null,
    username: null,
    profile_name: null,
    opted_out_at: null,
    opted_in_at: null,
    created_at: ctx.now,
    updated_at: ctx.now,
    group_id: groupId,
  };
  await contactsRepo.insert(trx, row);
  return row;
}

export async function applyPatch(
  trx: Db,
  contact: ContactRow,
  patch: Partial<ContactRow>,
  now: number,
): Promise<ContactRow> {
  const changed = Object.entries(patch).filter(([k, v]) => contact[k as keyof ContactRow] !== v);
  if (changed.length === 0) return contact;
  const next = { ...Object.fromEntries(changed), updated_at: now } as Partial<ContactRow>;
  await contactsRepo.update(trx, contact.id, next);
  return { ...contact, ...next };
}
