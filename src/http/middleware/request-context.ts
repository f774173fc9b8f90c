// Gives every request an id (the caller's X-Request-Id when it is sane, else a new one), a child
// logger carrying it, and one access log line when the answer leaves.
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import type { IdSource } from '../../lib/ids.js';
import type { HttpMetrics } from '../../observability/metrics.js';
import type { AppEnv } from '../env.js';

/** A caller's X-Request-Id is kept when it looks like this; else the request gets a new id. */
export const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/**
 * A delivery accepted by the webhook (issue 20): Meta sends them by the thousand per second, each is a
 * row in the inbox and counted by nwa_webhooks_received_total and the latency histogram, so its access
 * line is debug, as for health checks; a refused delivery's stays info. The same path as routes/webhook.ts.
 */
const WEBHOOK_POST = '/webhooks/whatsapp';

export function requestContext(deps: {
  logger: Logger;
  ids: IdSource;
  clock: Clock;
  metrics?: HttpMetrics;
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : deps.ids.next();
    const logger = deps.logger.child({ request_id: requestId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    c.set('token', undefined);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    const ms = performance.now() - started;
    deps.metrics?.observe(c.req.method, c.req.routePath ?? c.req.path, c.res.status, ms / 1000);
    const line = {
      event: 'http.request',
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round(ms * 10) / 10,
    };
    const accepted = c.res.status === 200 && c.req.method === 'POST' && c.req.path === WEBHOOK_POST;
    if (accepted || QUIET_PATHS.has(c.req.path)) logger.debug(line);
    else logger.info(line);
  };
}
