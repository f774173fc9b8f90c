// Runtime execute (SPEC §8): one intent for one agent's conversation. The checks come in a fixed
// order (422 unsupported intent, 404 agent, 409 extension_not_active, 404 conversation or one owned
// by another agent, 409 runtime_paused for intents that send, 409 window_closed for text outside the
// window); the state changes go through the conversation engine and the outbox, in one transaction.
// Over 300 lines on purpose (barely): one intent per case, the fixed order of checks visible in one place.

import { findAgentByUuid } from '../agents/agents.js';
import { activeAttachment } from '../agents/attachments.js';
import type { Config } from '../config/schema.js';
import { classify } from '../conversations/classify.js';
import { applyConversationEvent } from '../conversations/engine.js';
import { scoreText } from '../conversations/scorer.js';
import type { ConversationEvent } from '../conversations/state-machine.js';
import { AppError } from '../lib/app-error.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { enqueueMarkRead } from '../outbound/mark-read.js';
import { type ContextPriority, enqueueOutbound, recipientOf } from '../outbound/outbox.js';
import { type ReplyInteractive, type ReplyMedia, replyContent } from '../outbound/reply-content.js';
import type { TemplateMessage } from '../outbound/transports/transport.js';
import { requestFollowUp } from '../scheduler/follow-ups.js';
import type { AgentRow } from '../store/agents-repo.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import { withTransaction } from '../store/transactions.js';

export const SUPPORTED_INTENTS = [
  'route_conversation',
  'reply_conversation',
  'score_conversation',
  'follow_up_conversation',
  'escalate_conversation',
  'close_conversation',
  'publish_campaign',
] as const;
export type Intent = (typeof SUPPORTED_INTENTS)[number];

/** Intents that put a message on its way to a customer: refused while the runtime is paused. */
const SENDING: ReadonlySet<Intent> = new Set([
  'reply_conversation',
  'follow_up_conversation',
  'publish_campaign',
]);

/** How many of the latest customer messages score_conversation reads. */
const SCORE_MESSAGES = 20;

export interface ExecuteContext {
  platform: 'whatsapp';
  conversation_id?: string;
  priority: ContextPriority;
  route?: 'ai' | 'hybrid' | 'human';
  text?: string;
  template?: TemplateMessage;
  /** reply_conversation: a media message ({type, link | media_id, caption?, filename?}). */
  media?: ReplyMedia;
  /** reply_conversation: reply buttons (up to 3) or a list, as Meta defines them. */
  interactive?: ReplyInteractive;
  /** reply_conversation: the wamid this replies to (Graph context.message_id). */
  reply_to?: string;
  /** follow_up_conversation: when (ms); now when absent or past. */
  at?: number;
  reason?: string;
  campaign_id?: string;
}

export interface ExecuteRequest {
  agent_uuid: string;
  intent: string;
  context: ExecuteContext;
}

export interface ExecuteDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  config: () => Config;
  /** Starts a campaign of this agent (publish_campaign); absent while campaigns are not built in. */
  startCampaign?: (campaignId: string, agent: AgentRow) => Promise<Record<string, unknown>>;
  /** After the commit: the sender or the scheduler has work. */
  wakeSender: () => void;
  wakeScheduler: () => void;
}

export interface ExecuteOutcome {
  intent: Intent;
  status: 'done' | 'queued';
  /** The conversation after the intent (publish_campaign: none). */
  conversation_id: string | null;
  extra: Record<string, unknown>;
}

export async function executeIntent(deps: ExecuteDeps, req: ExecuteRequest): Promise<ExecuteOutcome> {
  if (!(SUPPORTED_INTENTS as readonly string[]).includes(req.intent)) {
    throw new AppError(
      'unsupported_intent',
      `intent ${JSON.stringify(req.intent.slice(0, 100))} is not supported by native-whatsapp; supported: ${SUPPORTED_INTENTS.join(', ')}`,
      { supported: SUPPORTED_INTENTS },
    );
  }
  const intent = req.intent as Intent;
  const agent = await findAgentByUuid(deps.db, req.agent_uuid);
  if (!agent) {
    throw new AppError('not_found', `no agent with uuid ${JSON.stringify(req.agent_uuid.slice(0, 100))}`);
  }
  if (!(await activeAttachment(deps.db, agent.id))) {
    throw new AppError(
      'extension_not_active',
      `native-whatsapp is not active on agent ${agent.uuid}; install it (not queued) before executing intents`,
    );
  }
  const config = deps.config();
  const ctx = req.context;

  if (intent === 'publish_campaign') {
    const campaignId = required(ctx.campaign_id, 'campaign_id', intent);
    if (config.runtime.status === 'paused') throw paused();
    if (!deps.startCampaign) {
      throw new AppError('not_found', `no campaign with id ${JSON.stringify(campaignId.slice(0, 100))}`);
    }
    const campaign = await deps.startCampaign(campaignId, agent);
    return { intent, status: 'queued', conversation_id: null, extra: { campaign } };
  }

  const conversationId = required(ctx.conversation_id, 'conversation_id', intent);
  const view = await conversationsRepo.getView(deps.db, conversationId);
  // Another agent's conversation is as unknown as a missing one: its existence is not disclosed.
  if (!view || view.agent_uuid !== agent.uuid) {
    throw new AppError(
      'not_found',
      `no conversation with id ${JSON.stringify(conversationId.slice(0, 100))}`,
    );
  }
  if (SENDING.has(intent) && config.runtime.status === 'paused') throw paused();

  const actor = `agent:${agent.uuid}`;
  const now = deps.clock.now();
  const engineCtx = { ids: deps.ids, now, config };
  const outcome = await withTransaction(deps.db, async (trx): Promise<ExecuteOutcome> => {
    const stored = await conversationsRepo.get(trx, view.id);
    const contact = stored ? await contactsRepo.get(trx, stored.contact_id) : undefined;
    if (!stored || !contact) throw new AppError('not_found', `no conversation with id ${view.id}`);
    let conv = stored;
    const apply = (event: ConversationEvent) =>
      applyConversationEvent(
        trx,
        { conversation: conv, contact, phone_number_id: conv.phone_number_id, event },
        engineCtx,
      );
    const done = (extra: Record<string, unknown> = {}): ExecuteOutcome => ({
      intent,
      status: 'done',
      conversation_id: conv.id,
      extra,
    });

    switch (intent) {
      case 'escalate_conversation':
        await apply({ type: 'escalate', reason: ctx.reason ?? 'requested', actor });
        return done();
      case 'close_conversation':
        await apply({ type: 'close', reason: 'intent', actor });
        return done();
      case 'route_conversation': {
        let to = ctx.route;
        let reclassified: Record<string, unknown> = {};
        if (!to) {
          // Re-classify from the conversation's first customer message with the current classes.
          const first = await messagesRepo.firstInbound(trx, conv.id);
          const c = classify({ text: first?.text ?? null, message_type: first?.type ?? 'text' }, config);
          to = c.route;
          const patch = { conversation_class: c.class, priority: c.priority, updated_at: now };
          await conversationsRepo.update(trx, conv.id, patch);
          conv = { ...conv, ...patch };
          reclassified = { classification: { class: c.class, route: c.route, priority: c.priority } };
        }
        await apply({ type: 'route', to, actor });
        return done(reclassified);
      }
      case 'score_conversation': {
        const recent = await messagesRepo.listForConversation(trx, conv.id, SCORE_MESSAGES * 3);
        const text = recent
          .filter((m) => m.direction === 'inbound' && m.text)
          .slice(-SCORE_MESSAGES)
          .map((m) => m.text)
          .join('\n');
        const score = scoreText(text, config.scorer.languages);
        await conversationsRepo.update(trx, conv.id, {
          intent: score.intent,
          sentiment: score.sentiment,
          updated_at: now,
        });
        return done({ score });
      }
      case 'reply_conversation': {
        const content = replyContent(ctx);
        if (
          content.type !== 'template' &&
          (conv.window_expires_at === null || conv.window_expires_at <= now)
        ) {
          throw new AppError(
            'window_closed',
            'the customer service window is closed (24 h after the customer’s last message); send an approved template instead',
            {
              window_expires_at: conv.window_expires_at === null ? null : toIso(conv.window_expires_at),
            },
          );
        }
        if (ctx.reply_to !== undefined) {
          const target = await messagesRepo.findByWamid(trx, ctx.reply_to);
          if (!target || target.conversation_id !== conv.id) {
            throw new AppError(
              'validation_failed',
              'invalid body: context.reply_to is not a message of this conversation',
              [{ path: 'context.reply_to', message: 'is not a message of this conversation' }],
            );
          }
        }
        const to = recipientOf(contact);
        if (!to)
          throw new AppError(
            'invalid_state',
            'the customer has neither a phone number nor a user id to send to',
          );
        await enqueueMarkRead(trx, conv, ctx.priority, { ids: deps.ids, now, config });
        const row = await enqueueOutbound(
          trx,
          {
            kind: 'manual',
            phone_number_id: conv.phone_number_id,
            to,
            content,
            conversation_id: conv.id,
            contact_id: contact.id,
            priority: ctx.priority,
            ...(ctx.reply_to !== undefined ? { reply_to: ctx.reply_to } : {}),
          },
          { ids: deps.ids, now },
        );
        return { intent, status: 'queued', conversation_id: conv.id, extra: { outbox_id: row.id } };
      }
      case 'follow_up_conversation': {
        if (conv.queue_state !== 'pending') {
          throw new AppError(
            'invalid_state',
            `follow-ups apply to pending conversations (the business answered, the customer is silent); this one is ${conv.queue_state}`,
          );
        }
        if (contact.opted_out_at !== null) {
          throw new AppError('opted_out', 'the customer opted out: no automated messages are sent to them');
        }
        const planned = await requestFollowUp(
          trx,
          conv,
          conv.last_business_message_at ?? now,
          ctx.at,
          engineCtx,
        );
        if (!planned) {
          throw new AppError(
            'invalid_state',
            'no follow-up rule applies: none is configured for this class, or the sequence for this silence is done',
          );
        }
        return {
          intent,
          status: 'queued',
          conversation_id: conv.id,
          extra: {
            follow_up: {
              id: planned.id,
              rule_id: planned.rule_id,
              due_at: toIso(planned.due_at),
            },
          },
        };
      }
    }
  });

  if (intent === 'reply_conversation') deps.wakeSender();
  if (intent === 'follow_up_conversation') deps.wakeScheduler();
  return outcome;
}

function required(value: string | undefined, field: string, intent: Intent): string {
  if (value === undefined) {
    throw new AppError('validation_failed', `invalid body: ${intent} needs context.${field}`, [
      { path: `context.${field}`, message: `is required for ${intent}` },
    ]);
  }
  return value;
}

function paused(): AppError {
  return new AppError(
    'runtime_paused',
    'the runtime is paused by root: nothing is sent until it is resumed (recovery action resume_runtime)',
  );
}
