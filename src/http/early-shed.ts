// Load shedding in the raw listener (SPEC §9, issue 20 "overload"): the shedding middleware
// (middleware/load-shedding.ts) decides only after the body gate has read the whole body, and a
// saturated event loop has by then spent the work it meant to save. Here, before a byte of the body is
// read, a webhook or API request is answered 503 + Retry-After when the daemon is already at its limit:
// its surface has load.*_max_in_flight requests being handled (bodies still arriving do not count: a
// trickling stranger must not make signed deliveries 503, SPEC §9a), or the event loop has run later
// than load.max_event_loop_delay_ms (when set) for the last half second. /healthz, /readyz and
// /metrics are never shed, nor anything outside /api and the webhook. A shed delivery loses nothing:
// Meta redelivers whatever did not get a 200.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import { errorBody } from './errors.js';
import { WEBHOOK_PATH } from './routes/webhook.js';

type Surface = 'api' | 'webhook';
type Reason = 'early_in_flight' | 'early_event_loop_delay';

export interface EarlyShedDeps {
  config: () => Config;
  logger: Logger;
  metrics?: Metrics;
  /** How late the event loop has been running lately, ms (observability/event-loop-delay.ts). */
  eventLoopDelay: () => number;
}

export interface EarlyShed {
  /** Wraps the raw listener: refuses before it when overloaded. */
  guard(next: RequestListener): RequestListener;
  /** Wraps what the body gate hands a request to once its body is read: counts it until answered. */
  track(next: (incoming: IncomingMessage, outgoing: ServerResponse) => void): typeof next;
  inFlight(surface: Surface): number;
}

/** The surface a request path belongs to; undefined for what is never shed here. */
export function surfaceOf(path: string): Surface | undefined {
  if (path === WEBHOOK_PATH) return 'webhook';
  if (path === '/api' || path.startsWith('/api/')) return 'api';
  return undefined;
}

export function createEarlyShed(deps: EarlyShedDeps): EarlyShed {
  const log = deps.logger.child({ module: 'load' });
  const shed = deps.metrics?.counter(
    'nwa_http_shed_total',
    'Requests answered 429/503 by load shedding, by surface and reason',
    ['surface', 'reason'],
  );
  const inFlight: Record<Surface, number> = { api: 0, webhook: 0 };
  // Logged on the edges only, as the middleware does: a line per shed request would flood the log.
  let shedding = false;

  function overloaded(surface: Surface, config: Config): { reason: Reason; message: string } | undefined {
    const max = surface === 'api' ? config.load.api_max_in_flight : config.load.webhook_max_in_flight;
    if (inFlight[surface] >= max) {
      return { reason: 'early_in_flight', message: `the daemon is handling its limit of ${max} requests` };
    }
    const maxDelay = config.load.max_event_loop_delay_ms;
    if (maxDelay !== null) {
      const delay = deps.eventLoopDelay();
      if (delay > maxDelay) {
        return {
          reason: 'early_event_loop_delay',
          message: `the daemon is running ${Math.round(delay)} ms behind`,
        };
      }
    }
    return undefined;
  }

  function refuse(
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    surface: Surface,
    why: { reason: Reason; message: string },
    config: Config,
  ): void {
    shed?.inc({ surface, reason: why.reason });
    if (!shedding) {
      shedding = true;
      log.warn(
        { event: 'load.shedding', surface, reason: why.reason, in_flight: inFlight[surface] },
        `shedding ${surface} load before reading requests`,
      );
    }
    const seconds = String(Math.max(1, Math.ceil(config.load.retry_after / 1000)));
    const body = JSON.stringify(errorBody('overloaded', `${why.message}; retry after ${seconds} s`));
    // The body is not read: the connection it would arrive on is closed after the answer.
    const hasBody =
      incoming.headers['transfer-encoding'] !== undefined ||
      (incoming.headers['content-length'] !== undefined && incoming.headers['content-length'] !== '0');
    if (hasBody) outgoing.shouldKeepAlive = false;
    outgoing.writeHead(503, {
      'content-type': 'application/json',
      'retry-after': seconds,
      ...(hasBody ? { connection: 'close' } : {}),
    });
    outgoing.end(body);
  }

  return {
    guard(next) {
      return (incoming, outgoing) => {
        const surface = surfaceOf((incoming.url ?? '/').split('?')[0] ?? '/');
        if (surface !== undefined) {
          const config = deps.config();
          const why = overloaded(surface, config);
          if (why) {
            refuse(incoming, outgoing, surface, why, config);
            return;
          }
          if (shedding) {
            shedding = false;
            log.info({ event: 'load.recovered', surface }, 'requests are read again');
          }
        }
        next(incoming, outgoing);
      };
    },
    track(next) {
      return (incoming, outgoing) => {
        const surface = surfaceOf((incoming.url ?? '/').split('?')[0] ?? '/');
        if (surface !== undefined) {
          inFlight[surface] += 1;
          // 'close' follows the answer, or a connection lost before it: either frees the slot once.
          outgoing.once('close', () => {
            inFlight[surface] -= 1;
          });
        }
        next(incoming, outgoing);
      };
    },
    inFlight: (surface) => inFlight[surface],
  };
}
