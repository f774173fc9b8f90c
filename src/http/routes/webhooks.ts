// Webhook subscriptions (SPEC §11, root) under .../management/webhooks: create, list, get, PATCH,
// DELETE, rotate-secret, test, deliveries, replay. Thin: validate, call events/subscriptions.ts, shape.
// Over 300 lines on purpose: nine thin routes of one resource and their request schemas, read together.
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { EVENT_EXAMPLES, exampleEnvelope, PUBLIC_EVENT_TYPES } from '../../events/catalog.js';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listAttempts,
  listSubscriptions,
  MAX_REPLAY,
  replay,
  rotateSecret,
  type SubscriptionDeps,
  testSubscription,
  toAttemptView,
  updateSubscription,
} from '../../events/subscriptions.js';
import { AppError } from '../../lib/app-error.js';
import type { AuditActor } from '../../lib/audit-actor.js';
import { systemClock } from '../../lib/clock.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorId, cursorInt, keysetPage } from '../cursor.js';
import type { AppEnv } from '../env.js';

export const WEBHOOKS_PATH = '/api/extensions/native-whatsapp/management/webhooks';

const eventType = z.enum(['*', ...PUBLIC_EVENT_TYPES], {
  error: `must be "*" or one of: ${PUBLIC_EVENT_TYPES.join(', ')}`,
});
const types = z
  .array(eventType)
  .min(1)
  .max(PUBLIC_EVENT_TYPES.length + 1);
const url = z.string().min(1).max(2048).describe('http(s) URL without credentials; must answer at creation');

const createBody = z.strictObject({
  url,
  types: types.describe('event types to receive, or ["*"] for all'),
  agent_uuid: z.string().min(1).max(128).optional().describe('only events of this agent'),
  description: z.string().max(500).optional(),
});
const patchBody = z
  .strictObject({
    url: url.optional(),
    types: types.optional(),
    enabled: z.boolean().optional(),
    description: z.string().max(500).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'give at least one of url, types, enabled, description',
  });
const replayBody = z
  .strictObject({
    since: z.iso
      .datetime({ offset: true, error: 'must be an ISO-8601 date-time, like 2026-01-05T08:00:00Z' })
      .optional()
      .describe(`events at or after this time (at most ${MAX_REPLAY})`),
    event_ids: z.array(z.string().min(1).max(64)).min(1).max(1000).optional(),
  })
  .refine((b) => (b.since === undefined) !== (b.event_ids === undefined), {
    message: 'give exactly one of since or event_ids',
  });

const health = z.object({
  status: z.enum(['healthy', 'failing', 'disabled', 'new']),
  pending: z.number().int(),
  delivered: z.number().int(),
  dead: z.number().int(),
  failing_since: z.string().nullable(),
  last_success_at: z.string().nullable(),
  last_failure_at: z.string().nullable(),
  last_error: z.string().nullable(),
});
const subscription = z.object({
  id: z.string(),
  url: z.string(),
  types: z.array(z.string()),
  agent_uuid: z.string().nullable(),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  health,
});
const ping = z.object({
  ok: z.boolean(),
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int(),
  error: z.string().nullable(),
});
const attempt = z.object({
  id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  at: z.string(),
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int(),
  error: z.string().nullable(),
});

/** The envelope, with one example per type (SPEC §11: `data` documented per type). */
const envelopeDoc = z
  .object({
    id: z.string().describe('evt_<ulid>; also the webhook-id header'),
    type: z.enum(PUBLIC_EVENT_TYPES),
    occurred_at: z.string(),
    agent_uuid: z.string().nullable(),
    conversation_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({
    examples: PUBLIC_EVENT_TYPES.map((t) => exampleEnvelope(t)),
    description: PUBLIC_EVENT_TYPES.map((t) => `${t}: ${EVENT_EXAMPLES[t].summary}`).join('\n'),
  });

const DELIVERY_DOC =
  'Deliveries follow Standard Webhooks: POST of the JSON envelope with headers webhook-id (the event id), ' +
  'webhook-timestamp (seconds) and webhook-signature (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed ' +
  'by the base64 part of the secret after `whsec_`; during 24 h after a rotation both secrets sign, space-' +
  'separated). A 2xx acknowledges; anything else (3xx included: redirects are not followed; 10 s timeout) is ' +
  'retried with jittered backoff from 5 s to 1 h for 24 h, then the delivery is dead (replayable). 410 disables ' +
  'the subscription; so do 5 days without a success. Within one conversation events arrive in sequence order.';

function serviceDeps(deps: AppDeps): SubscriptionDeps {
  return {
    db: deps.db,
    clock: deps.clock,
    wallClock: systemClock,
    ids: deps.ids,
    random: deps.random,
    config: deps.config,
  };
}

function actorOf(c: Context<AppEnv>, token: { id: string } | undefined): AuditActor {
  if (!token) throw new AppError('unauthorized', 'missing bearer token');
  return { token_id: token.id, request_id: c.get('requestId') ?? null };
}

export function mountWebhookSubscriptionRoutes(router: ApiRouter, deps: AppDeps): void {
  const s = serviceDeps(deps);
  const byId = `${WEBHOOKS_PATH}/:id`;
  const after = () => deps.events.delivery.wake();

  router.add(
    {
      method: 'post',
      path: WEBHOOKS_PATH,
      tier: 'root',
      auditedBy: 'service',
      tag: 'webhooks',
      summary: 'Subscribe a URL to events; the signing secret is in this answer only.',
      description: `The URL gets a signed ping first: no answer at all is a 400; an error status is reported in \`test\`. ${DELIVERY_DOC}`,
      body: createBody,
      responses: {
        201: {
          description: 'the subscription, its secret (shown once) and the ping result',
          schema: z.object({ ...subscription.shape, secret: z.string(), test: ping }),
        },
        400: {
          description: 'invalid body: URL not http(s), with credentials or unreachable; unknown event type',
        },
        403: { description: 'needs a root token' },
        409: { description: 'too many subscriptions' },
      },
    },
    async (c, { body, token }) => {
      const out = await createSubscription(s, body, actorOf(c, token));
      after();
      return c.json({ ...out.subscription, secret: out.secret, test: out.test }, 201);
    },
  );

  router.add(
    {
      method: 'get',
      path: WEBHOOKS_PATH,
      tier: 'root',
      tag: 'webhooks',
      summary: 'Every subscription with its delivery health.',
      responses: {
        200: { description: 'the subscriptions', schema: z.object({ items: z.array(subscription) }) },
      },
    },
    async (c) => c.json({ items: await listSubscriptions(s) }),
  );

  router.add(
    {
      method: 'get',
      path: `${WEBHOOKS_PATH}/events`,
      tier: 'root',
      tag: 'webhooks',
      summary: 'The event types, each with one example envelope (also what the live stream sends).',
      responses: {
        200: { description: 'types and examples', schema: z.object({ items: z.array(envelopeDoc) }) },
      },
    },
    (c) => c.json({ items: PUBLIC_EVENT_TYPES.map((t) => exampleEnvelope(t)) }),
  );

  router.add(
    {
      method: 'get',
      path: byId,
      tier: 'root',
      tag: 'webhooks',
      summary: 'One subscription with its delivery health.',
      responses: {
        200: { description: 'the subscription', schema: subscription },
        404: { description: 'no such subscription' },
      },
    },
    async (c, { params }) => c.json(await getSubscription(s, params.id as string)),
  );

  router.add(
    {
      method: 'patch',
      path: byId,
      tier: 'root',
      auditedBy: 'service',
      tag: 'webhooks',
      summary: 'Change url, types, enabled or description.',
      body: patchBody,
      responses: {
        200: { description: 'the subscription', schema: subscription },
        400: { description: 'invalid body' },
        404: { description: 'no such subscription' },
      },
    },
    async (c, { params, body, token }) => {
      const out = await updateSubscription(s, params.id as string, body, actorOf(c, token));
      after();
      return c.json(out);
    },
  );

  router.add(
    {
      method: 'delete',
      path: byId,
      tier: 'root',
      auditedBy: 'service',
      tag: 'webhooks',
      summary: 'Delete a subscription and its pending deliveries.',
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such subscription' } },
    },
    async (c, { params, token }) => {
      await deleteSubscription(s, params.id as string, actorOf(c, token));
      return c.body(null, 204);
    },
  );

  router.add(
    {
      method: 'post',
      path: `${byId}/rotate-secret`,
      tier: 'root',
      auditedBy: 'service',
      tag: 'webhooks',
      summary: 'A new signing secret (shown once); the old one keeps signing for 24 h more.',
      responses: {
        200: {
          description: 'the new secret',
          schema: z.object({ secret: z.string(), previous_secret_valid_until: z.string() }),
        },
        404: { description: 'no such subscription' },
      },
    },
    async (c, { params, token }) => c.json(await rotateSecret(s, params.id as string, actorOf(c, token))),
  );

  router.add(
    {
      method: 'post',
      path: `${byId}/test`,
      tier: 'root',
      auditedBy: 'service',
      tag: 'webhooks',
      summary: 'Send a signed `ping` event now and report the answer.',
      responses: {
        200: { description: 'the answer', schema: ping },
        404: { description: 'no such subscription' },
      },
    },
    async (c, { params, token }) => c.json(await testSubscription(s, params.id as string, actorOf(c, token))),
  );

  router.add(
    {
      method: 'get',
      path: `${byId}/deliveries`,
      tier: 'root',
      tag: 'webhooks',
      summary: 'Delivery attempts, newest first: time, status code, latency, error.',
      query: z.strictObject(paginationQuery),
      responses: {
        200: {
          description: 'a page of attempts',
          schema: z.object({ items: z.array(attempt), next_cursor: z.string().nullable() }),
        },
        404: { description: 'no such subscription' },
      },
    },
    async (c, { params, query }) => {
      const page = await keysetPage(
        query,
        z.object({ at: cursorInt, id: cursorId }),
        (limit, before) => listAttempts(s, params.id as string, limit, before),
        (r) => ({ at: r.at, id: r.id }),
      );
      return c.json({ items: page.items.map(toAttemptView), next_cursor: page.next_cursor });
    },
  );

  router.add(
    {
      method: 'post',
      path: `${byId}/replay`,
      tier: 'root',
      auditedBy: 'service',
      tag: 'webhooks',
      summary: 'Deliver retained events again: `since` a time, or by `event_ids`.',
      body: replayBody,
      responses: {
        200: {
          description: 'how many deliveries were queued',
          schema: z.object({ queued: z.number().int() }),
        },
        400: { description: 'invalid body' },
        404: { description: 'no such subscription' },
      },
    },
    async (c, { params, body, token }) => {
      const out = await replay(
        s,
        params.id as string,
        { since: body.since === undefined ? undefined : Date.parse(body.since), event_ids: body.event_ids },
        actorOf(c, token),
      );
      after();
      return c.json(out);
    },
  );
}
