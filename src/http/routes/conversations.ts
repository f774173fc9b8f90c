// GET .../runtime/conversations (filtered, newest activity first, keyset-paginated) and
// GET .../runtime/conversations/:conversation_id (snapshot + messages in timestamp order, transitions,
// follow-ups and drafts), SPEC §8.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { draftSchema } from '../../conversations/drafts.js';
import { conversationDetail, listConversations } from '../../conversations/queries.js';
import {
  conversationMessageSchema,
  messagingSnapshotSchema,
  toSnapshot,
} from '../../conversations/snapshot.js';
import { mediaViewSchema } from '../../media/media-view.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorId, cursorInt, keysetPage } from '../cursor.js';

const BASE = '/api/extensions/native-whatsapp/runtime/conversations';

/** Position in (last activity desc, id desc) order. */
const activityCursor = z.object({ t: cursorInt, id: cursorId });

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
  messages: z.array(
    conversationMessageSchema.extend({
      media: mediaViewSchema
        .nullable()
        .describe('the media of an image, audio, video, document or sticker message, and its download state'),
    }),
  ),
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
  auto_replies: z
    .array(
      z.object({
        mode: z.enum(['reply', 'draft']).describe('reply: route ai sends it; draft: route hybrid drafts it'),
        state: z.enum(['pending', 'done']),
        outcome: z
          .string()
          .nullable()
          .describe(
            'replied (source), drafted, "no reply: ..." (no responder rule matched), or "skipped: ..." with why (no agent, not installed, queued, opted out, routed elsewhere, already answered)',
          ),
        created_at: z.string(),
        updated_at: z.string(),
      }),
    )
    .describe('each reply the engine asked the responder for and what became of it, oldest first'),
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
      const filters = {
        queue_state: query.queue_state,
        assigned_route: query.assigned_route,
        agent_uuid: query.agent_uuid,
        wa_id: query.wa_id,
      };
      const page = await keysetPage(
        query,
        activityCursor,
        (limit, after) =>
          listConversations(
            deps.db,
            filters,
            limit,
            after ? { last_message_at: after.t, id: after.id } : undefined,
          ),
        (r) => ({ t: r.last_message_at, id: r.id }),
      );
      return c.json({ items: page.items.map(toSnapshot), next_cursor: page.next_cursor });
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
    async (c, { query, params }) =>
      c.json(await conversationDetail(deps.db, params.conversation_id as string, query.message_limit)),
  );
}
