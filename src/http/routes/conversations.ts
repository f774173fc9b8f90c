// GET .../runtime/conversations (filtered, newest activity first, keyset-paginated) and
// GET .../runtime/conversations/:conversation_id (snapshot + messages in timestamp order, transitions,
// follow-ups and drafts), SPEC §8.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { draftSchema, toDraft } from '../../conversations/drafts.js';
import {
  conversationMessageSchema,
  messagingSnapshotSchema,
  toConversationMessage,
  toSnapshot,
} from '../../conversations/snapshot.js';
import { AppError } from '../../lib/app-error.js';
import { toIso } from '../../lib/clock.js';
import { conversationLogRepo } from '../../store/conversation-log-repo.js';
import { conversationsRepo } from '../../store/conversations-repo.js';
import { draftsRepo } from '../../store/drafts-repo.js';
import { followUpsRepo } from '../../store/follow-ups-repo.js';
import { messagesRepo } from '../../store/messages-repo.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

const BASE = '/api/extensions/native-whatsapp/runtime/conversations';

const listQuery = z.strictObject({
  ...paginationQuery,
  queue_state: z.enum(['open', 'pending', 'escalated', 'closed']).optional(),
  assigned_route: z.enum(['ai', 'hybrid', 'human']).optional(),
  agent_uuid: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('conversations owned by this agent (assigned, or the agent of their business number)'),
  wa_id: z
    .string()
    .regex(/^\d{5,20}$/, 'must be a phone number in digits (wa_id)')
    .optional()
    .describe('the customer, by any phone number they have had'),
});

const detailQuery = z.strictObject({
  message_limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .default(200)
    .describe('how many of the latest messages to include, 1–1000'),
});

const detail = messagingSnapshotSchema.extend({
  messages: z.array(conversationMessageSchema),
  messages_truncated: z.boolean().describe('true when older messages exist beyond message_limit'),
  transitions: z.array(
    z.object({
      from: z.string().nullable().describe('null when the transition started the conversation'),
      to: z.string(),
      reason: z.string(),
      actor: z.string(),
      at: z.string(),
    }),
  ),
  follow_ups: z.array(
    z.object({
      id: z.string(),
      rule_id: z.string(),
      due_at: z.string(),
      state: z
        .string()
        .describe('scheduled, claimed (handed to the outbox), sent, skipped, cancelled, failed'),
      sent_wamid: z.string().nullable(),
      skip_reason: z.string().nullable().describe('why it was skipped, cancelled or failed'),
    }),
  ),
  drafts: z.array(draftSchema).describe('replies a responder drafted for a human (route hybrid)'),
});

export function mountConversationRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'get',
      path: BASE,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Conversations as MessagingSnapshots, newest activity first.',
      description:
        'Filters combine with AND. Pages are keyset-based (last activity, id), so new conversations do not ' +
        'shift later pages; a conversation with new activity moves to the front.',
      query: listQuery,
      responses: {
        200: {
          description: 'a page of conversations',
          schema: z.object({ items: z.array(messagingSnapshotSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const after = query.cursor ? decodeCursor(query.cursor, ['t', 'id']) : undefined;
      const t = Number(after?.t);
      if (after && !Number.isFinite(t)) {
        throw new AppError('validation_failed', 'invalid query: cursor is not a cursor this API returned', [
          { path: 'cursor', message: 'is not a cursor this API returned' },
        ]);
      }
      const rows = await conversationsRepo.listViews(
        deps.db,
        {
          queue_state: query.queue_state,
          assigned_route: query.assigned_route,
          agent_uuid: query.agent_uuid,
          wa_id: query.wa_id,
        },
        query.limit + 1,
        after ? { last_message_at: t, id: String(after.id) } : undefined,
      );
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return c.json({
        items: page.map(toSnapshot),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor({ t: last.last_message_at, id: last.id }) : null,
      });
    },
  );

  router.add(
    {
      method: 'get',
      path: `${BASE}/:conversation_id`,
      tier: 'standard',
      tag: 'runtime',
      summary: 'One conversation: its snapshot, messages in timestamp order, transitions and follow-ups.',
      query: detailQuery,
      responses: {
        200: { description: 'the conversation', schema: detail },
        404: { description: 'no conversation with that id' },
      },
    },
    async (c, { query, params }) => {
      const id = params.conversation_id as string;
      const row = await conversationsRepo.getView(deps.db, id);
      if (!row)
        throw new AppError('not_found', `no conversation with id ${JSON.stringify(id.slice(0, 100))}`);
      const messages = await messagesRepo.listForConversation(deps.db, id, query.message_limit + 1);
      const truncated = messages.length > query.message_limit;
      return c.json({
        ...toSnapshot(row),
        messages: (truncated ? messages.slice(1) : messages).map(toConversationMessage),
        messages_truncated: truncated,
        transitions: (await conversationLogRepo.transitions(deps.db, id)).map((t) => ({
          from: t.from_state,
          to: t.to_state,
          reason: t.reason,
          actor: t.actor,
          at: toIso(t.at),
        })),
        follow_ups: (await followUpsRepo.listForConversation(deps.db, id)).map((f) => ({
          id: f.id,
          rule_id: f.rule_id,
          due_at: toIso(f.due_at),
          state: f.state,
          sent_wamid: f.sent_wamid,
          skip_reason: f.skip_reason,
        })),
        drafts: (await draftsRepo.listForConversation(deps.db, id)).map(toDraft),
      });
    },
  );
}
