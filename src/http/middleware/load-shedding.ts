// Load shedding (SPEC §9): past its capacity the daemon answers at once with 429 (API) or 503
// (webhook) and Retry-After rather than letting requests pile up in memory. Bounds: requests in
// flight per surface; for the webhook the inbox backlog (deliveries stored but not yet processed);
// and, when configured, how late the event loop runs (a saturated loop queues requests where no
// counter sees them). A shed webhook loses nothing: Meta redelivers anything that did not get a 200.
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { BacklogProbe } from '../../inbox/backlog-probe.js';
import { AppError } from '../../lib/app-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Metrics } from '../../observability/metrics.js';
import type { AppEnv } from '../env.js';

export type Surface = 'api' | 'webhook';

export interface LoadSheddingDeps {
  config: () => Config;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Webhook only: the inbox backlog, checked on POST deliveries. */
  backlog?: BacklogProbe;
  /** How late the event loop has been running lately, ms (observability/event-loop-delay.ts). */
  eventLoopDelay?: () => number;
}

export interface LoadShedding {
  middleware: MiddlewareHandler<AppEnv>;
  /**
   * For a path that answers before the Hono app (the webhook fast path, http/webhook-fast-path.ts):
   * takes a slot and returns its release when the request is admitted, else undefined without
   * counting or logging anything, and the caller hands the request to the app, whose middleware then
   * refuses it with the usual answer. The slot counts toward the same in-flight limit as the middleware's.
   */
  tryEnter(method: string): Promise<(() => void) | undefined>;
}

export function loadShedding(surface: Surface, deps: LoadSheddingDeps): MiddlewareHandler<AppEnv> {
  return createLoadShedding(surface, deps).middleware;
}

export function createLoadShedding(surface: Surface, deps: LoadSheddingDeps): LoadShedding {
  const log = deps.logger.child({ module: 'load' });
  const shed = deps.metrics.counter(
    'nwa_http_shed_total',
    'Requests answered 429/503 by load shedding, by surface and reason',
    ['surface', 'reason'],
  );
  const inFlightGauge = deps.metrics.gauge('nwa_http_in_flight', 'Requests being handled, by surface', [
    'surface',
  ]);
  let inFlight = 0;
  inFlightGauge.set({ surface }, 0);
  // Logged on the edges only: one line per shed request would flood the log exactly when it hurts.
  let shedSince: number | undefined;

  function refuse(reason: 'event_loop_delay' | 'in_flight' | 'backlog', message: string): never {
    shed.inc({ surface, reason });
    if (shedSince === undefined) {
      shedSince = deps.clock.now();
      log.warn({ event: 'load.shedding', surface, reason, in_flight: inFlight }, `shedding ${surface} load`);
    }
    const config = deps.config();
    const seconds = String(Math.max(1, Math.ceil(config.load.retry_after / 1000)));
    const code = surface === 'api' ? 'rate_limited' : 'overloaded';
    throw new AppError(code, `${message}; retry after ${seconds} s`, { reason }, { 'Retry-After': seconds });
  }

  /** Why a request arriving now is refused before it takes a slot (the backlog is checked after), or undefined. */
  function refusal(config: Config): ['event_loop_delay' | 'in_flight', string] | undefined {
    const maxDelay = config.load.max_event_loop_delay_ms;
    const delay = maxDelay === null ? 0 : (deps.eventLoopDelay?.() ?? 0);
    if (maxDelay !== null && delay > maxDelay) {
      return ['event_loop_delay', `the daemon is running ${Math.round(delay)} ms behind`];
    }
    const max = surface === 'api' ? config.load.api_max_in_flight : config.load.webhook_max_in_flight;
    if (inFlight >= max) return ['in_flight', `the daemon is handling its limit of ${max} requests`];
    return undefined;
  }

  /** Only awaited for a webhook POST: a wait anywhere else would let refusals pass this request by. */
  const checksBacklog = (method: string) => deps.backlog !== undefined && method === 'POST';

  async function backlogRefusal(config: Config): Promise<string | undefined> {
    if (!deps.backlog) return undefined;
    const limit = config.inbox.backlog_threshold * config.load.backlog_shed_factor;
    // A failing count must not refuse deliveries: the insert itself reports a broken database.
    const pending = await deps.backlog.pending().catch(() => 0);
    return pending > limit ? `${pending} deliveries are waiting to be processed (limit ${limit})` : undefined;
  }

  function enter(): () => void {
    inFlight += 1;
    inFlightGauge.set({ surface }, inFlight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      inFlightGauge.set({ surface }, inFlight);
    };
  }

  function recovered(): void {
    if (shedSince === undefined) return;
    log.info(
      { event: 'load.recovered', surface, shed_ms: deps.clock.now() - shedSince },
      `${surface} load back under its limits`,
    );
    shedSince = undefined;
  }

  return {
    middleware: async (c, next) => {
      const config = deps.config();
      const refused = refusal(config);
      if (refused) refuse(...refused);
      const release = enter();
      try {
        const backlog = checksBacklog(c.req.method) ? await backlogRefusal(config) : undefined;
        if (backlog !== undefined) refuse('backlog', backlog);
        recovered();
        await next();
      } finally {
        release();
      }
    },
    async tryEnter(method) {
      const config = deps.config();
      if (refusal(config)) return undefined;
      const release = enter();
      if (checksBacklog(method) && (await backlogRefusal(config)) !== undefined) {
        release();
        return undefined;
      }
      recovered();
      return release;
    },
  };
}
