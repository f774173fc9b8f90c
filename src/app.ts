// createApp(deps): the Hono app with every route mounted. It never listens; daemon.ts does.
import { Hono } from 'hono';
import type { AppDeps } from './app-deps.js';
import { mountDashboard } from './dashboard/mount.js';
import { ApiRouter } from './http/api-router.js';
import type { AppEnv } from './http/env.js';
import { errorBody, renderError } from './http/errors.js';
import { bodyLimit } from './http/middleware/body-limit.js';
import { createLoadShedding, loadShedding } from './http/middleware/load-shedding.js';
import { requestContext } from './http/middleware/request-context.js';
import { buildOpenApi, renderDocsPage } from './http/openapi.js';
import { mountAgentRoutes } from './http/routes/agents.js';
import { mountAuditRoutes } from './http/routes/audit.js';
import { CAMPAIGNS_PATH, mountCampaignRoutes } from './http/routes/campaigns.js';
import { mountContactRoutes } from './http/routes/contacts.js';
import { mountConversationRoutes } from './http/routes/conversations.js';
import { mountDraftRoutes } from './http/routes/drafts.js';
import { mountEventStreamRoutes } from './http/routes/events.js';
import { mountExecuteRoutes } from './http/routes/execute.js';
import { mountHealthRoutes } from './http/routes/health.js';
import { mountInsightRoutes } from './http/routes/insights.js';
import { mountManagementRoutes } from './http/routes/management.js';
import { mountMarketplaceRoutes } from './http/routes/marketplace.js';
import { MEDIA_PATH, mountMediaRoutes } from './http/routes/media.js';
import { mountRecoveryRoutes } from './http/routes/recovery.js';
import { mountTemplateRoutes } from './http/routes/templates.js';
import { mountWebhookRoutes, WEBHOOK_PATH } from './http/routes/webhook.js';
import { mountWebhookSubscriptionRoutes } from './http/routes/webhooks.js';
import type { RawHandler } from './http/webhook-fast-path.js';
import { createBacklogProbe } from './inbox/backlog-probe.js';
import { AppError } from './lib/app-error.js';
import { sustainedEventLoopDelayMs } from './observability/event-loop-delay.js';

export interface CreatedApp {
  app: Hono<AppEnv>;
  router: ApiRouter;
  openapi: () => Record<string, unknown>;
  /** Runs in the raw node:http listener after the body gate, before the app (http/webhook-fast-path.ts). */
  rawHandler: RawHandler;
}

export function createApp(deps: AppDeps): CreatedApp {
  const app = new Hono<AppEnv>();
  const config = deps.config();

  app.use(
    '*',
    requestContext({ logger: deps.logger, ids: deps.ids, clock: deps.clock, metrics: deps.metrics }),
  );
  // Shedding comes before anything reads a body, so a refused request costs next to nothing.
  const shedDeps = {
    config: deps.config,
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    eventLoopDelay: sustainedEventLoopDelayMs,
  };
  app.use('/api/*', loadShedding('api', shedDeps));
  // Shared with the webhook's fast path in the raw listener: one in-flight count for both.
  const webhookShedding = createLoadShedding('webhook', {
    ...shedDeps,
    backlog: createBacklogProbe({ db: deps.db, clock: deps.clock }),
  });
  app.use(WEBHOOK_PATH, webhookShedding.middleware);
  // Commands write; while the database must not be written they are refused like ingress (store/writability.ts).
  app.use('/api/*', (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || deps.writability.writable()) return next();
    throw new AppError(
      'store_not_writable',
      'the database is not writable right now, so no command can be stored; retry later',
      undefined,
      { 'Retry-After': '5' },
    );
  });
  // A campaign is created with its whole recipient list in one body, so that one route has its own limit.
  const apiLimit = bodyLimit(config.server.api_body_limit_bytes);
  const campaignLimit = bodyLimit(config.campaigns.create_body_limit_bytes);
  // A media upload is a file: its own limit (plus room for the multipart framing).
  const mediaLimit = bodyLimit(config.media.upload_max_bytes + 64 * 1024);
  app.use('/api/*', (c, next) => {
    if (c.req.method === 'POST' && c.req.path === CAMPAIGNS_PATH) return campaignLimit(c, next);
    if (c.req.method === 'POST' && c.req.path === MEDIA_PATH) return mediaLimit(c, next);
    return apiLimit(c, next);
  });

  app.onError((err, c) => {
    if (err instanceof AppError) return renderError(c, err);
    const logger = c.get('logger') ?? deps.logger;
    logger.error(
      { event: 'http.unhandled_error', err, method: c.req.method, path: c.req.path },
      'unhandled error',
    );
    return c.json(
      errorBody('internal_error', 'an internal error occurred', undefined, c.get('requestId')),
      500,
    );
  });
  app.notFound((c) =>
    c.json(
      errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`, undefined, c.get('requestId')),
      404,
    ),
  );

  const router = new ApiRouter(app, { db: deps.db, clock: deps.clock, ids: deps.ids, logger: deps.logger });
  mountHealthRoutes(router, deps);
  const webhookFastPath = mountWebhookRoutes(app, router, deps, webhookShedding);
  mountConversationRoutes(router, deps);
  mountContactRoutes(router, deps);
  mountDraftRoutes(router, deps);
  mountCampaignRoutes(router, deps);
  mountTemplateRoutes(router, deps);
  mountAuditRoutes(router, deps);
  mountMarketplaceRoutes(router, deps);
  mountAgentRoutes(router, deps);
  mountManagementRoutes(router, deps);
  mountRecoveryRoutes(router, deps);
  mountInsightRoutes(router, deps);
  mountExecuteRoutes(router, deps);
  mountMediaRoutes(router, deps);
  mountDashboard(app, deps);
  mountWebhookSubscriptionRoutes(router, deps);
  mountEventStreamRoutes(router, deps);

  let cachedDoc: Record<string, unknown> | undefined;
  const openapi = () => {
    cachedDoc ??= buildOpenApi(router.specs, { version: deps.version });
    return cachedDoc;
  };
  app.get('/api/openapi.json', (c) => c.json(openapi()));
  app.get('/api/docs', (c) => c.html(renderDocsPage(openapi())));

  return { app, router, openapi, rawHandler: webhookFastPath };
}
