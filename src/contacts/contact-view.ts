// The contacts API's service (SPEC §3a): every stored message is visible somewhere, so a customer's
// messages that belong to no conversation (a reaction to a campaign send, a system notice, a campaign
// send itself) are shown under the contact, beside its identities, identity changes, opt-out state
// and conversations.
import { z } from 'zod';
import { messageViews } from '../conversations/message-views.js';
import { conversationMessageSchema, messagingSnapshotSchema, toSnapshot } from '../conversations/snapshot.js';
import { toIso } from '../lib/clock.js';
import { type ContactRow, contactsRepo, type IdentityKind } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';

const iso = z.string().describe('ISO-8601 UTC');

export const contactSchema = z.object({
  contact_id: z.string(),
  wa_id: z.string().nullable().describe('the current phone number; null for a BSUID-only customer'),
  user_id: z.string().nullable().describe('the current business-scoped user id (BSUID)'),
  username: z.string().nullable(),
  profile_name: z.string().nullable(),
  opted_out: z.boolean().describe('true while the customer opted out of automated messages'),
  opted_out_at: iso.nullable(),
  opted_in_at: iso.nullable(),
  created_at: iso,
  updated_at: iso,
});

export const contactDetailSchema = contactSchema.extend({
  identities: z
    .array(z.object({ kind: z.enum(['wa_id', 'user_id']), value: z.string(), since: iso }))
    .describe('every phone number and BSUID this customer has had; each still finds this contact'),
  identity_changes: z
    .array(
      z.object({
        kind: z.enum(['wa_id', 'user_id']),
        previous: z.string().nullable(),
        current: z.string(),
        source: z.string().describe('system_message or user_id_update'),
        at: iso,
      }),
    )
    .describe('contact.identity_changed records, oldest first'),
  conversations: z.array(messagingSnapshotSchema).describe('newest activity first (at most 100)'),
  messages: z
    .array(conversationMessageSchema)
    .describe('messages of this contact that belong to no conversation, in timestamp order'),
  messages_truncated: z.boolean().describe('true when older such messages exist beyond message_limit'),
});

export type ContactView = z.output<typeof contactSchema>;

export function toContact(row: ContactRow): ContactView {
  return {
    contact_id: row.id,
    wa_id: row.wa_id,
    user_id: row.user_id,
    username: row.username,
    profile_name: row.profile_name,
    opted_out: row.opted_out_at !== null,
    opted_out_at: row.opted_out_at === null ? null : toIso(row.opted_out_at),
    opted_in_at: row.opted_in_at === null ? null : toIso(row.opted_in_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

/** Contacts newest first, strictly before `beforeId`; both filters: the contact has had both ids. */
export async function listContacts(
  db: Db,
  filter: { wa_id?: string; user_id?: string },
  limit: number,
  beforeId?: string,
): Promise<ContactView[]> {
  const by: { kind?: IdentityKind; value?: string } = filter.wa_id
    ? { kind: 'wa_id', value: filter.wa_id }
    : filter.user_id
      ? { kind: 'user_id', value: filter.user_id }
      : {};
  let rows = await contactsRepo.list(db, by, limit, beforeId);
  if (filter.wa_id && filter.user_id) {
    const other = await contactsRepo.findByIdentity(db, 'user_id', filter.user_id);
    rows = rows.filter((r) => r.id === other?.id);
  }
  return rows.map(toContact);
}

/** One contact in full; undefined when there is no such contact (a group's stand-in is not one). */
export async function contactDetail(
  db: Db,
  id: string,
  messageLimit: number,
): Promise<z.output<typeof contactDetailSchema> | undefined> {
  const row = await contactsRepo.get(db, id);
  if (!row || row.group_id !== null) return undefined;
  const messages = await messagesRepo.listWithoutConversation(db, id, messageLimit + 1);
  const truncated = messages.length > messageLimit;
  return {
    ...toContact(row),
    identities: (await contactsRepo.identities(db, id)).map((i) => ({
      kind: i.kind,
      value: i.value,
      since: toIso(i.created_at),
    })),
    identity_changes: (await contactsRepo.identityChanges(db, id)).map((c) => ({
      kind: c.kind,
      previous: c.previous,
      current: c.current,
      source: c.source,
      at: toIso(c.at),
    })),
    conversations: (await conversationsRepo.listViews(db, { contact_id: id }, 100)).map(toSnapshot),
    messages: await messageViews(db, truncated ? messages.slice(1) : messages),
    messages_truncated: truncated,
  };
}
