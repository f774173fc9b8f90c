// /webhooks/whatsapp: Meta's GET verification handshake and POST deliveries (SPEC §3). Public: the
// signature, not a bearer token, authenticates a delivery. The logic lives in webhook/ingress.ts.
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../lib/app-error.js';
import { createIngress } from '../../webhook/ingress.js';
import type { ApiRouter } from '../api-router.js';
import type { AppEnv } from '../env.js';
import type { LoadShedding } from '../middleware/load-shedding.js';
import { createWebhookFastPath, type RawHandler } from '../webhook-fast-path.js';

export const WEBHOOK_PATH = '/webhooks/whatsapp';

const received = z.object({
  status: z.literal('received'),
  inbox_id: z.string().describe('id of the stored delivery'),
});

/** Mounts the routes; returns the raw listener's fast path for accepted deliveries (webhook-fast-path.ts). */
export function mountWebhookRoutes(
  app: Hono<AppEnv>,
  router: ApiRouter,
  deps: AppDeps,
  shedding: Pick<LoadShedding, 'tryEnter'>,
): RawHandler {
  const ingress = createIngress({
    writer: deps.inbox.writer,
    clock: deps.clock,
    ids: deps.ids,
    logger: deps.logger,
    metrics: deps.metrics,
    secrets: deps.secrets,
    writability: deps.writability,
  });
  const limit = deps.config().server.webhook_body_limit_bytes;
  const tooLarge = (): never => {
    ingress.refusedTooLarge();
    throw new AppError('payload_too_large', `the webhook body is larger than ${limit} bytes`);
  };
  const streamingLimit = bodyLimit({ maxSize: limit, onError: tooLarge });
  app.use(WEBHOOK_PATH, (c, next) => {
    if (c.req.method !== 'POST') return next();
    // Meta sends Content-Length, which Node's parser holds the body to: checking the header keeps
    // the fast body path of @hono/node-server (hono's bodyLimit builds a web Request with a
    // ReadableStream to count the bytes, a large share of the cost of a small delivery). Chunked
    // bodies without a length are counted as they stream.
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined)
      return streamingLimit(c, next);
    if (!/^\d+$/.test(length) || Number(length) > limit) tooLarge();
    return next();
  });

  router.add(
    {
      method: 'get',
      path: WEBHOOK_PATH,
      tier: 'public',
      tag: 'webhook',
      summary: 'Meta verification handshake: echoes hub.challenge when hub.verify_token matches.',
      description:
        'Query: hub.mode=subscribe, hub.verify_token, hub.challenge. 200 text/plain with the challenge, else 403.',
      responses: {
        200: { description: 'the hub.challenge value, as text/plain' },
        403: { description: 'wrong mode or verify token' },
      },
    },
    (c) => c.text(ingress.handshake(c.req.query()), 200),
  );

  router.add(
    {
      method: 'post',
      path: WEBHOOK_PATH,
      tier: 'public',
      tag: 'webhook',
      summary: 'A Cloud API webhook delivery, signed with X-Hub-Signature-256.',
      description:
        'The raw body is committed to the inbox before 200; processing happens afterwards. 401 unsigned or ' +
        'mis-signed (nothing stored), 400 signed but not a whatsapp_business_account JSON delivery (stored ' +
        'as rejected), 413 over server.webhook_body_limit_bytes, 503 with Retry-After when overloaded.',
      responses: {
        200: { description: 'stored durably', schema: received },
        400: { description: 'signed but not a WhatsApp Business Account delivery' },
        401: { description: 'missing or wrong signature' },
        413: { description: 'body over the limit' },
        503: {
          description:
            'too many deliveries waiting to be stored, or the database is not writable now; retry later',
        },
      },
    },
    async (c) => {
      const done = deps.inbox.writer.receiving();
      try {
        const body = new Uint8Array(await c.req.arrayBuffer());
        const result = await ingress.receive(body, c.req.header('x-hub-signature-256'));
        return c.json({ status: 'received' as const, inbox_id: result.inbox_id }, 200);
      } finally {
        done();
      }
    },
  );

  return createWebhookFastPath({
    ingress,
    shedding,
    writer: deps.inbox.writer,
    metrics: deps.metrics,
    logger: deps.logger,
    ids: deps.ids,
    path: WEBHOOK_PATH,
  });
}
