// What the conversation pages read: the list with the ones waiting for a human first (escalated, then
// holding a draft), and one conversation as a single timeline of messages, status changes,
// transitions, follow-ups and drafts. Both read through the conversations API's own queries.

import { z } from 'zod';
import { type Draft, withPendingDrafts } from '../conversations/drafts.js';
import { listConversations, conversationDetail as queryDetail } from '../conversations/queries.js';
import { type MessagingSnapshot, toSnapshot } from '../conversations/snapshot.js';
import { cursorId, cursorInt, keysetPage } from '../http/cursor.js';
import type { ConversationFilters } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';

export interface ListFilters {
  state?: 'open' | 'pending' | 'escalated' | 'closed';
  route?: 'ai' | 'hybrid' | 'human';
  class?: string;
  agent?: string;
}

export interface ListItem {
  snapshot: MessagingSnapshot;
  has_draft: boolean;
}

const STATES = ['open', 'pending', 'escalated', 'closed'] as const;
const ROUTES = ['ai', 'hybrid', 'human'] as const;

/** Filters from a query string; unknown values are dropped rather than refused (a bookmark may be old). */
export function listFilters(q: Record<string, string | undefined>): ListFilters {
  const f: ListFilters = {};
  if (STATES.includes(q.state as never)) f.state = q.state as ListFilters['state'];
  if (ROUTES.includes(q.route as never)) f.route = q.route as ListFilters['route'];
  if (q.class && /^[a-z0-9][a-z0-9_-]{0,62}$/.test(q.class)) f.class = q.class;
  if (q.agent && q.agent.length <= 100) f.agent = q.agent;
  return f;
}

/** The list's sort key in a cursor, as the conversations API pages it. */
const activityCursor = z.object({ t: cursorInt, id: cursorId });

/**
 * One page of the list, newest activity first. The first page also carries every conversation that
 * waits for a human (up to 50), ranked first; later pages are plain keyset pages.
 */
export async function conversationList(
  db: Db,
  f: ListFilters,
  cursor?: string,
  limit = 100,
): Promise<{ items: ListItem[]; next_cursor: string | null }> {
  const filters: ConversationFilters = {
    queue_state: f.state,
    assigned_route: f.route,
    conversation_class: f.class,
    agent_uuid: f.agent,
  };
  const attention = cursor ? [] : await listConversations(db, { ...filters, needs_human: true }, 50);
  const page = await keysetPage(
    { cursor, limit },
    activityCursor,
    (n, after) =>
      listConversations(db, filters, n, after ? { last_message_at: after.t, id: after.id } : undefined),
    (r) => ({ t: r.last_message_at, id: r.id }),
  );
  const seen = new Set(attention.map((r) => r.id));
  const rows = [...attention, ...page.items.filter((r) => !seen.has(r.id))];
  const drafts = await withPendingDrafts(
    db,
    rows.map((r) => r.id),
  );
  const items = rows.map((r) => ({ snapshot: toSnapshot(r), has_draft: drafts.has(r.id) }));
  // Escalated first, then those holding a draft; within each, newest activity first (the query order).
  const rank = (i: ListItem) => (i.snapshot.queue_state === 'escalated' ? 0 : i.has_draft ? 1 : 2);
  return {
    items: items
      .map((item, index) => ({ item, index }))
      .sort((a, b) => rank(a.item) - rank(b.item) || a.index - b.index)
      .map((x) => x.item),
    next_cursor: page.next_cursor,
  };
}

export type DetailMessage = Awaited<ReturnType<typeof queryDetail>>['messages'][number];

export type TimelineEntry =
  | { kind: 'message'; at: string; message: DetailMessage }
  | { kind: 'transition'; at: string; from: string | null; to: string; reason: string; actor: string }
  | { kind: 'follow_up'; at: string; rule_id: string; state: string; skip_reason: string | null }
  | { kind: 'draft'; at: string; state: string; source: string; edited: boolean; reason: string | null };

export interface ConversationDetail {
  snapshot: MessagingSnapshot;
  timeline: TimelineEntry[];
  drafts: Draft[];
  truncated: boolean;
}

/** The API's conversation detail (conversations/queries.ts) as one timeline, oldest first. */
export async function conversationDetail(db: Db, id: string, limit = 200): Promise<ConversationDetail> {
  const { messages, messages_truncated, transitions, follow_ups, drafts, ...snapshot } = await queryDetail(
    db,
    id,
    limit,
  );
  const timeline: TimelineEntry[] = [
    ...messages.map((message) => ({ kind: 'message' as const, at: message.timestamp, message })),
    ...transitions.map((t) => ({ kind: 'transition' as const, ...t })),
    ...follow_ups.map((f) => ({
      kind: 'follow_up' as const,
      at: f.due_at,
      rule_id: f.rule_id,
      state: f.state,
      skip_reason: f.skip_reason,
    })),
    ...drafts
      .filter((d) => d.state !== 'pending')
      .map((d) => ({
        kind: 'draft' as const,
        at: d.decided_at ?? d.updated_at,
        state: d.state,
        source: d.source,
        edited: d.sent_text !== null && d.sent_text !== d.text,
        reason: d.decided_reason,
      })),
  ];
  // Stable: at equal times messages stay before the transitions they caused.
  timeline.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { snapshot, timeline, drafts, truncated: messages_truncated };
}
