// The body gate (SPEC §9a): every request body is read here, in front of the Hono app, under a deadline
// and a minimum rate, into one of a capped number of "receiving" slots kept apart from the slots of
// requests being processed (load shedding). Only a body read whole reaches the app, so a client that
// trickles its body holds a receiving slot until it is cut with 408, never a slot signed deliveries need.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { sustainedEventLoopDelayMs } from '../observability/event-loop-delay.js';
import type { Metrics } from '../observability/metrics.js';
import { createEarlyShed } from './early-shed.js';
import { errorBody } from './errors.js';
import { CAMPAIGNS_PATH } from './routes/campaigns.js';
import { WEBHOOK_PATH } from './routes/webhook.js';
import type { RawHandler } from './webhook-fast-path.js';

export interface BodyGateLimits {
  /** Longest a body may take to arrive, ms. */
  bodyTimeoutMs: number;
  /** After the grace, a body must have arrived at this average rate at least. */
  minBytesPerSecond: number;
  graceMs: number;
  /** Bodies being received at once; past it the slowest one is cut to make room. */
  maxReceiving: number;
  /** The largest body the route may get (413 past it, as the app's own limits answer). */
  maxBytesFor(method: string, path: string): number;
}

interface Receiving {
  started: number;
  bytes: number;
  cut(status: 408 | 413, reason: string): void;
}

const CHECK_EVERY_MS = 50;
const CUTS_PER_CHECK = 32;

export interface BodyGate {
  listener: RequestListener;
  /** Bodies being received now. */
  receiving(): number;
  close(): void;
}

export function createBodyGate(
  next: (incoming: IncomingMessage, outgoing: ServerResponse) => void,
  limits: () => BodyGateLimits,
  logger: Logger,
  now: () => number = () => performance.now(),
): BodyGate {
  const log = logger.child({ module: 'http' });
  const active = new Set<Receiving>();

  // One timer for every body: cut the ones past their deadline or below the minimum rate. At most
  // CUTS_PER_CHECK per check: a wave of hundreds cut in one go would hold the loop for that long.
  const timer = setInterval(() => {
    const l = limits();
    const t = now();
    let cuts = 0;
    for (const r of active) {
      if (cuts >= CUTS_PER_CHECK) break;
      const elapsed = t - r.started;
      if (elapsed > l.bodyTimeoutMs) {
        r.cut(408, `the request body did not arrive within ${l.bodyTimeoutMs} ms`);
        cuts++;
      } else if (elapsed > l.graceMs && (r.bytes * 1000) / elapsed < l.minBytesPerSecond) {
        r.cut(408, `the request body arrived slower than ${l.minBytesPerSecond} bytes/s`);
        cuts++;
      }
    }
  }, CHECK_EVERY_MS);
  timer.unref();

  /** The receiving body with the lowest average rate: the first to go when the slots are full. */
  function slowest(): Receiving | undefined {
    const t = now();
    let worst: Receiving | undefined;
    let worstRate = Number.POSITIVE_INFINITY;
    for (const r of active) {
      const rate = r.bytes / Math.max(1, t - r.started);
      if (rate < worstRate) {
        worst = r;
        worstRate = rate;
      }
    }
    return worst;
  }

  const listener: RequestListener = (incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const hasBody =
      incoming.headers['transfer-encoding'] !== undefined ||
      (incoming.headers['content-length'] !== undefined && incoming.headers['content-length'] !== '0');
    if (!hasBody || method === 'GET' || method === 'HEAD') {
      next(incoming, outgoing);
      return;
    }
    const l = limits();
    const path = (incoming.url ?? '/').split('?')[0] ?? '/';
    const maxBytes = l.maxBytesFor(method, path);
    const declared = Number(incoming.headers['content-length']);
    const chunks: Buffer[] = [];
    let done = false;

    const finish = () => {
      done = true;
      active.delete(entry);
      incoming.removeListener('data', onData);
      incoming.removeListener('end', onEnd);
      incoming.removeListener('aborted', onAborted);
      incoming.removeListener('error', onAborted);
    };
    const entry: Receiving = {
      started: now(),
      bytes: 0,
      cut(status, reason) {
        if (done) return;
        finish();
        log.warn(
          {
            event: 'http.body_cut',
            status,
            method,
            path,
            bytes: entry.bytes,
            remote: incoming.socket.remoteAddress,
          },
          reason,
        );
        const body = JSON.stringify(
          errorBody(status === 408 ? 'request_timeout' : 'payload_too_large', reason),
        );
        // The rest of the body is not wanted: answer, then close the connection it would arrive on.
        outgoing.shouldKeepAlive = false;
        outgoing.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
        outgoing.end(body, () => incoming.socket.destroy());
      },
    };
    const onData = (chunk: Buffer) => {
      entry.bytes += chunk.length;
      if (entry.bytes > maxBytes) {
        entry.cut(413, `the request body is larger than ${maxBytes} bytes`);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (done) return;
      finish();
      // @hono/node-server takes `rawBody` as the body instead of reading the stream again.
      (incoming as IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.concat(chunks, entry.bytes);
      next(incoming, outgoing);
    };
    const onAborted = () => {
      if (done) return;
      finish();
      // A client that goes away mid-body is routine on the internet: one line, no stack.
      log.warn(
        {
          event: 'http.request_aborted',
          method,
          path,
          bytes: entry.bytes,
          remote: incoming.socket.remoteAddress,
        },
        'the client closed the connection before its request body arrived',
      );
    };

    if (Number.isFinite(declared) && declared > maxBytes) {
      // The app refuses it from the header alone (413 with its request id), without reading it.
      next(incoming, outgoing);
      return;
    }
    if (active.size >= l.maxReceiving) {
      slowest()?.cut(408, 'the request body arrived too slowly while other requests waited for a slot');
    }
    active.add(entry);
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('aborted', onAborted);
    incoming.on('error', onAborted);
  };

  return {
    listener,
    receiving: () => active.size,
    close: () => clearInterval(timer),
  };
}

/** Limits of the gate and node:http timeouts from the configuration (SPEC §9a). */
export function gateLimitsFrom(config: Config): BodyGateLimits {
  const s = config.server;
  return {
    bodyTimeoutMs: s.body_timeout,
    minBytesPerSecond: s.body_min_bytes_per_second,
    graceMs: s.body_rate_grace,
    maxReceiving: s.max_receiving_bodies,
    maxBytesFor: (method, path) => {
      if (path === WEBHOOK_PATH) return s.webhook_body_limit_bytes;
      if (method === 'POST' && path === CAMPAIGNS_PATH) return config.campaigns.create_body_limit_bytes;
      return s.api_body_limit_bytes;
    },
  };
}

/**
 * `serve()` options that put the gate in front of the app and set the node:http timeouts: headers must
 * arrive within headers_timeout, an idle keep-alive connection closes after keep_alive_timeout, and
 * node's own whole-request timeout backs the gate up. `options.front` sees each request once its body is
 * read, before the app (the webhook's fast path, webhook-fast-path.ts).
 */
export function gatedServer(
  config: () => Config,
  logger: Logger,
  options: { metrics?: Metrics; eventLoopDelay?: () => number; front?: RawHandler } = {},
) {
  let gate: BodyGate | undefined;
  const s = config().server;
  const front = options.front;
  // Overload is refused in front of the gate, before any body is read (http/early-shed.ts).
  const early = createEarlyShed({
    config,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    eventLoopDelay: options.eventLoopDelay ?? sustainedEventLoopDelayMs,
  });
  return {
    serverOptions: {
      headersTimeout: s.headers_timeout,
      requestTimeout: s.headers_timeout + s.body_timeout + 5_000,
      keepAliveTimeout: s.keep_alive_timeout,
      // How often node checks headers/request timeouts (default 30 s would let them overrun by that much).
      connectionsCheckingInterval: 1_000,
    },
    // node:http's overloads (options optional) are wider than what serve() calls it with.
    createServer: ((options: ServerOptions, listener?: RequestListener) => {
      const app = (incoming: IncomingMessage, outgoing: ServerResponse) => listener?.(incoming, outgoing);
      gate = createBodyGate(
        early.track(front ? (incoming, outgoing) => front(incoming, outgoing, app) : app),
        () => gateLimitsFrom(config()),
        logger,
      );
      return createServer(options, early.guard(gate.listener));
    }) as typeof createServer,
    close: () => gate?.close(),
  };
}
