// The customer's open conversation read together with what the rest of an inbound message's processing
// would otherwise look up one statement at a time and almost never finds: edits or revokes of the
// message, Business-app echoes waiting for a conversation, pending drafts, a follow-up or campaign send
// the reply may be attributed to (issue 20: five statements per message, each costing more in JS and in
// SQLite's statement setup than its index lookup does inside one statement). Each lookup the read finds
// nothing for is skipped; each it finds something for runs as before. The conditions are the lookups'
// own (their repositories export them), so a hint cannot ask something else than its lookup.
// SQLite only: there the transaction holds the database's one write lock from its first write, so
// nothing but this transaction's own later statements can change the answer before the lookup would
// have run (the callers' own writes in between add no such row: a plain inbound message, a conversation
// update, follow-ups cancelled or scheduled, sends cancelled). On PostgreSQL, under READ COMMITTED,
// another instance's commit between the read and a lookup would be seen by the lookup and not by the
// read, so there the lookups run as they always did.
import { attributableSendsTo } from './campaigns-repo.js';
import { type ConversationRow, conversationsRepo } from './conversations-repo.js';
import type { Db } from './db.js';
import { engineOf } from './dialect.js';
import { pendingDraftsOf } from './drafts-repo.js';
import { unrepliedSendsOf } from './follow-ups-repo.js';
import { revisionsOfWhere, unattachedEchoesWhere } from './messages-repo.js';
import { preparedQuery } from './prepared-query.js';

/** What the inbound read found none of (true: none exists, the lookup may be skipped). */
export interface FoundNone {
  /** Edits and revokes of the message (messagesRepo.revisionsOf(wamid)). */
  revisions: boolean;
  /** Unattached Business-app echoes to the contact on the number at or after `at` (unattachedEchoesSince). */
  echoes: boolean;
  /** Pending drafts of the conversation read (draftsRepo.supersedePending). */
  pendingDrafts: boolean;
  /** Unreplied follow-ups of the conversation read sent in [since, at] (followUpsRepo.markReplied). */
  followUpSends: boolean;
  /** Campaign sends to wa_id in [since, at] open to attribution (campaignsRepo.latestSentTo). */
  campaignSends: boolean;
}

export interface InboundProbe {
  phone_number_id: string;
  contact_id: string;
  /** The message's wamid. */
  wamid: string;
  /** The contact's current phone number (campaign sends are addressed to it); null: none. */
  wa_id: string | null;
  /** The message's timestamp, ms. */
  at: number;
  /** The start of the attribution window (at − campaigns.attribution_window). */
  since: number;
}

// Runs for every one-to-one inbound message on SQLite (prepared-query.ts).
const openWithHints = preparedQuery(
  6,
  (
    db,
    phoneNumberId: string,
    contactId: string,
    wamid: string,
    waId: string | null,
    at: number,
    since: number,
  ) =>
    db
      .selectFrom('conversations')
      .selectAll('conversations')
      .select((eb) => [
        eb
          .exists(db.selectFrom('messages').select('messages.id').where(revisionsOfWhere(wamid)))
          .as('hint_revisions'),
        eb
          .exists(
            db
              .selectFrom('messages')
              .select('messages.id')
              .where(unattachedEchoesWhere(contactId, phoneNumberId, at)),
          )
          .as('hint_echoes'),
        eb
          .exists(
            db
              .selectFrom('drafts')
              .select('drafts.id')
              .where(pendingDraftsOf(eb.ref('conversations.id'))),
          )
          .as('hint_drafts'),
        eb
          .exists(
            db
              .selectFrom('follow_ups')
              .select('follow_ups.id')
              .where(unrepliedSendsOf(eb.ref('conversations.id'), since, at)),
          )
          .as('hint_follow_up_sends'),
        eb
          .exists(
            db
              .selectFrom('campaign_recipients')
              .select('campaign_recipients.id')
              .where(attributableSendsTo(waId, since, at)),
          )
          .as('hint_campaign_sends'),
      ])
      .where('conversations.phone_number_id', '=', phoneNumberId)
      .where('conversations.contact_id', '=', contactId)
      .where('conversations.closed_at', 'is', null),
);

/**
 * conversationsRepo.findCurrentForUpdate(phone_number_id, contact_id), and, on SQLite when the customer
 * has an open conversation, what the rest of the message's processing will find none of.
 */
export async function findCurrentForInbound(
  db: Db,
  probe: InboundProbe,
): Promise<{ conversation: ConversationRow | undefined; none?: FoundNone }> {
  if (engineOf(db) === 'sqlite') {
    const row = (
      await openWithHints(
        db,
        probe.phone_number_id,
        probe.contact_id,
        probe.wamid,
        probe.wa_id,
        probe.at,
        probe.since,
      )
    ).rows[0];
    if (row) {
      const {
        hint_revisions,
        hint_echoes,
        hint_drafts,
        hint_follow_up_sends,
        hint_campaign_sends,
        ...conversation
      } = row;
      return {
        conversation,
        none: {
          revisions: !hint_revisions,
          echoes: !hint_echoes,
          pendingDrafts: !hint_drafts,
          followUpSends: !hint_follow_up_sends,
          campaignSends: !hint_campaign_sends,
        },
      };
    }
  }
  // No open conversation (a new one, or a closed one to reopen: the rarer path), or PostgreSQL.
  return {
    conversation: await conversationsRepo.findCurrentForUpdate(db, probe.phone_number_id, probe.contact_id),
  };
}
