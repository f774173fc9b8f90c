// Gives every request an id (the caller's X-Request-Id when it is sane, else a new one), a child
// logger carrying it, and one access log line when the answer leaves.
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import type { IdSource } from '../../lib/ids.js';
import type { HttpMetrics } from '../../observability/metrics.js';
import type { AppEnv } from '../env.js';

const SANE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function requestContext(deps: {
  logger: Logger;
  ids: IdSource;
  clock: Clock;
  metrics?: HttpMetrics;
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SANE_ID.test(incoming) ? incoming : deps.ids.next();
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
    if (QUIET_PATHS.has(c.req.path)) logger.debug(line);
    else logger.info(line);
  };
}
