// What the conversation pages read: the list with the ones waiting for a human first (escalated, then
// holding a draft), and one conversation as a single timeline of messages, status changes,
// transitions, follow-ups and drafts. Same repositories and mappings as the conversations API.
import {
  type ConversationMessage,
  type MessagingSnapshot,
  toConversationMessage,
  toSnapshot,
} from '../conversations/snapshot.js';
import { conversationLogRepo } from '../store/conversation-log-repo.js';
import { type ConversationFilters, conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { type DraftRow, draftsRepo } from '../store/drafts-repo.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { messagesRepo } from '../store/messages-repo.js';

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

export async function conversationList(db: Db, f: ListFilters, limit = 100): Promise<ListItem[]> {
  const filters: ConversationFilters = {
    queue_state: f.state,
    assigned_route: f.route,
    conversation_class: f.class,
    agent_uuid: f.agent,
  };
  const attention = await conversationsRepo.listViews(db, { ...filters, needs_human: true }, 50);
  const recent = await conversationsRepo.listViews(db, filters, limit);
  const seen = new Set(attention.map((r) => r.id));
  const rows = [...attention, ...recent.filter((r) => !seen.has(r.id))].slice(0, limit);
  const drafts = await draftsRepo.withPendingDrafts(
    db,
    rows.map((r) => r.id),
  );
  const items = rows.map((r) => ({ snapshot: toSnapshot(r), has_draft: drafts.has(r.id) }));
  // Escalated first, then those holding a draft; within each, newest activity first (the query order).
  const rank = (i: ListItem) => (i.snapshot.queue_state === 'escalated' ? 0 : i.has_draft ? 1 : 2);
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => rank(a.item) - rank(b.item) || a.index - b.index)
    .map((x) => x.item);
}

export type TimelineEntry =
  | { kind: 'message'; at: string; message: ConversationMessage }
  | { kind: 'transition'; at: string; from: string | null; to: string; reason: string; actor: string }
  | { kind: 'follow_up'; at: string; rule_id: string; state: string; skip_reason: string | null }
  | { kind: 'draft'; at: string; state: string; source: string; edited: boolean; reason: string | null };

export interface ConversationDetail {
  snapshot: MessagingSnapshot;
  timeline: TimelineEntry[];
  drafts: DraftRow[];
  truncated: boolean;
}

export async function conversationDetail(
  db: Db,
  id: string,
  limit = 200,
): Promise<ConversationDetail | undefined> {
  const row = await conversationsRepo.getView(db, id);
  if (!row) return undefined;
  const messages = await messagesRepo.listForConversation(db, id, limit + 1);
  const truncated = messages.length > limit;
  const timeline: TimelineEntry[] = [];
  for (const m of truncated ? messages.slice(1) : messages) {
    const message = toConversationMessage(m);
    timeline.push({ kind: 'message', at: message.timestamp, message });
  }
  for (const t of await conversationLogRepo.transitions(db, id)) {
    timeline.push({
      kind: 'transition',
      at: new Date(t.at).toISOString(),
      from: t.from_state,
      to: t.to_state,
      reason: t.reason,
      actor: t.actor,
    });
  }
  for (const f of await followUpsRepo.listForConversation(db, id)) {
    timeline.push({
      kind: 'follow_up',
      at: new Date(f.due_at).toISOString(),
      rule_id: f.rule_id,
      state: f.state,
      skip_reason: f.skip_reason,
    });
  }
  const drafts = await draftsRepo.listForConversation(db, id);
  for (const d of drafts) {
    if (d.state === 'pending') continue;
    timeline.push({
      kind: 'draft',
      at: new Date(d.decided_at ?? d.updated_at).toISOString(),
      state: d.state,
      source: d.source,
      edited: d.sent_text !== null && d.sent_text !== d.text,
      reason: d.decided_reason,
    });
  }
  // Stable: at equal times messages stay before the transitions they caused.
  timeline.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return {
    snapshot: toSnapshot(row),
    timeline,
    drafts,
    truncated,
  };
}
