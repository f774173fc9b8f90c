// POST .../runtime/execute: one intent for an agent's conversation (SPEC §8). Validation here, the
// rules in extension/execute.ts; the answer carries the conversation's MessagingSnapshot after it.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { getCampaign, startCampaign } from '../../campaigns/service.js';
import { templateRef } from '../../config/schema.js';
import { findConversation } from '../../conversations/queries.js';
import { messagingSnapshotSchema, toSnapshot } from '../../conversations/snapshot.js';
import { executeIntent, SUPPORTED_INTENTS } from '../../extension/execute.js';
import { AppError } from '../../lib/app-error.js';
import { replyInteractiveSchema, replyMediaSchema } from '../../outbound/reply-content.js';
import type { ApiRouter } from '../api-router.js';
import { campaignDeps } from './campaigns.js';

export const EXECUTE_PATH = '/api/extensions/native-whatsapp/runtime/execute';

// Other seed context keys (resource, ...) are accepted and ignored: the context is a loose object.
const context = z.looseObject({
  platform: z.literal('whatsapp', { error: 'must be "whatsapp"' }),
  conversation_id: z.string().min(1).max(100).optional(),
  priority: z.enum(['low', 'normal', 'high']).default('normal').describe('orders queued work'),
  route: z
    .enum(['ai', 'hybrid', 'human'])
    .optional()
    .describe('route_conversation: the route; re-classify when absent'),
  text: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe('reply_conversation: free-form text (inside the window)'),
  template: templateRef.optional().describe('reply_conversation: an approved template (any time)'),
  media: replyMediaSchema
    .optional()
    .describe(
      'reply_conversation: an image, audio, video, document or sticker by link or media_id (inside the window)',
    ),
  interactive: replyInteractiveSchema
    .optional()
    .describe(
      'reply_conversation: reply buttons (type "button", 1–3 buttons, title ≤ 20, body ≤ 1024) or a list (type "list", ≤ 10 rows in all, row title ≤ 24, description ≤ 72, button ≤ 20, body ≤ 4096); inside the window',
    ),
  reply_to: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('reply_conversation: the wamid of a message of this conversation to reply to (quoted)'),
  at: z.iso
    .datetime({ offset: true, error: 'must be an ISO-8601 date-time' })
    .optional()
    .describe('follow_up_conversation: when; now when absent'),
  reason: z.string().min(1).max(200).optional().describe('escalate_conversation: why'),
  campaign_id: z.string().min(1).max(100).optional().describe('publish_campaign: the campaign to start'),
});

const body = z.strictObject({
  agent_uuid: z.string().min(1).max(100),
  intent: z
    .string()
    .min(1)
    .max(100)
    .describe(`one of ${SUPPORTED_INTENTS.join(', ')}`),
  context,
});

const answer = z.looseObject({
  intent: z.enum(SUPPORTED_INTENTS),
  status: z.enum(['done', 'queued']),
  snapshot: messagingSnapshotSchema
    .nullable()
    .describe('the conversation after the intent; null for publish_campaign'),
});

export function mountExecuteRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'post',
      path: EXECUTE_PATH,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Execute an intent: route, reply, score, follow up, escalate, close, publish a campaign.',
      description:
        'The agent needs an active native-whatsapp attachment (409 extension_not_active). Intents on a ' +
        'conversation need context.conversation_id of a conversation the agent owns (else 404). While ' +
        'the runtime is paused, reply_conversation, follow_up_conversation and publish_campaign answer ' +
        '409 runtime_paused. A text reply outside the 24 h window answers 409 window_closed. 200 when ' +
        'done, 202 when queued (reply, follow-up, campaign); context.priority orders queued replies.',
      body,
      responses: {
        200: { description: 'done', schema: answer },
        202: { description: 'queued', schema: answer },
        400: {
          description: 'invalid body (context.platform not whatsapp, a required context key missing, ...)',
        },
        404: { description: 'unknown agent or conversation, or a conversation of another agent' },
        409: { description: 'extension_not_active, runtime_paused, window_closed, invalid_state, opted_out' },
        422: { description: 'unsupported_intent; details.supported lists the intents' },
      },
    },
    async (c, { body: b }) => {
      const out = await executeIntent(
        {
          db: deps.db,
          clock: deps.clock,
          ids: deps.ids,
          config: deps.config,
          async startCampaign(campaignId, agent) {
            // Another agent's campaign is as unknown as a missing one.
            const found = await getCampaign(deps.db, campaignId).catch(() => undefined);
            if (!found || found.agent_uuid !== agent.uuid) {
              throw new AppError(
                'not_found',
                `no campaign with id ${JSON.stringify(campaignId.slice(0, 100))}`,
              );
            }
            return { ...(await startCampaign(campaignDeps(deps), campaignId)) };
          },
          wakeSender: () => deps.outbound.sender.wake(),
          wakeScheduler: () => {
            deps.outbound.scheduler.tick().catch(() => undefined);
          },
        },
        {
          agent_uuid: b.agent_uuid,
          intent: b.intent,
          context: {
            ...b.context,
            at: b.context.at === undefined ? undefined : Date.parse(b.context.at),
          },
        },
      );
      const row = out.conversation_id ? await findConversation(deps.db, out.conversation_id) : undefined;
      return c.json(
        { intent: out.intent, status: out.status, snapshot: row ? toSnapshot(row) : null, ...out.extra },
        out.status === 'queued' ? 202 : 200,
      );
    },
  );
}
