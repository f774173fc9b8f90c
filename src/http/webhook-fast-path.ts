// The webhook's fast path (issue 20): a signed, well-formed `POST /webhooks/whatsapp` is stored and
// answered in the raw node:http listener, once the body gate (body-gate.ts) has read its body under
// its deadline and size limit, without Hono building a web Request, a context, a middleware chain and a
// web Response around it. Profiled under load, that machinery and the per-request logger cost more
// than the signature check and the insert together; a delivery is the one request that comes by the
// thousand per second.
// It keeps the contract of the app's route to the letter: the same load shedding (a shared in-flight
// count and backlog bound), the same signature check and JSON shape check, the same group-committed
// insert before the 200 and the same answer, request id, metrics and counters. Everything else
// (anything not a clean accept: unsigned, mis-signed, not JSON, shed, with a query string...) is
// handed to the app unchanged, which answers it as before, so no error path is written twice.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AppError } from '../lib/app-error.js';
import type { IdSource } from '../lib/ids.js';
import type { HttpMetrics } from '../observability/metrics.js';
import type { InboxWriter } from '../webhook/inbox-writer.js';
import type { Ingress } from '../webhook/ingress.js';
import { errorBody, statusFor } from './errors.js';
import type { LoadShedding } from './middleware/load-shedding.js';
import { SANE_REQUEST_ID } from './middleware/request-context.js';

export type RawListener = (incoming: IncomingMessage, outgoing: ServerResponse) => void;

/** Handles a request itself or passes it to `next` (the app). */
export type RawHandler = (incoming: IncomingMessage, outgoing: ServerResponse, next: RawListener) => void;

export interface WebhookFastPathDeps {
  ingress: Pick<Ingress, 'acceptable' | 'storeAccepted'>;
  shedding: Pick<LoadShedding, 'tryEnter'>;
  writer: Pick<InboxWriter, 'receiving'>;
  metrics: HttpMetrics;
  logger: Logger;
  ids: IdSource;
  /** The webhook's path (routes/webhook.ts, which creates the fast path). */
  path: string;
}

export function createWebhookFastPath(deps: WebhookFastPathDeps): RawHandler {
  const log = deps.logger;
  const WEBHOOK_PATH = deps.path;

  async function handle(
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    body: Buffer,
    next: RawListener,
  ): Promise<void> {
    const started = performance.now();
    const release = await deps.shedding.tryEnter('POST');
    if (!release) return next(incoming, outgoing);
    const done = deps.writer.receiving();
    let status = 200;
    let payload: unknown;
    let extraHeaders: Record<string, string> | undefined;
    let requestId: string;
    try {
      const header = incoming.headers['x-hub-signature-256'];
      if (!deps.ingress.acceptable(body, typeof header === 'string' ? header : undefined)) {
        release();
        done();
        next(incoming, outgoing);
        return;
      }
      const given = incoming.headers['x-request-id'];
      requestId = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : deps.ids.next();
      try {
        const result = await deps.ingress.storeAccepted(body);
        payload = { status: 'received', inbox_id: result.inbox_id };
      } catch (err) {
        // What the app's error handler answers for the same failure (app.ts onError, errors.ts).
        if (err instanceof AppError) {
          status = statusFor(err.code);
          payload = errorBody(err.code, err.message, err.details, requestId);
          extraHeaders = err.headers;
        } else {
          log.error(
            { event: 'http.unhandled_error', request_id: requestId, err, method: 'POST', path: WEBHOOK_PATH },
            'unhandled error',
          );
          status = 500;
          payload = errorBody('internal_error', 'an internal error occurred', undefined, requestId);
        }
      }
    } catch (err) {
      release();
      done();
      throw err;
    }
    release();
    done();
    const text = JSON.stringify(payload);
    outgoing.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-request-id': requestId,
      ...extraHeaders,
    });
    outgoing.end(text);
    const ms = performance.now() - started;
    deps.metrics.observe('POST', WEBHOOK_PATH, status, ms / 1000);
    // The access line of request-context.ts; an accepted delivery's is at debug level there too.
    const line = {
      request_id: requestId,
      event: 'http.request',
      method: 'POST',
      path: WEBHOOK_PATH,
      status,
      duration_ms: Math.round(ms * 10) / 10,
    };
    if (status === 200) log.debug(line);
    else log.info(line);
  }

  return (incoming, outgoing, next) => {
    const body = (incoming as IncomingMessage & { rawBody?: Buffer }).rawBody;
    // Only a body the gate read whole (within the route's limit) on the exact path; the rest goes on.
    if (incoming.method !== 'POST' || incoming.url !== WEBHOOK_PATH || !(body instanceof Buffer)) {
      next(incoming, outgoing);
      return;
    }
    handle(incoming, outgoing, body, next).catch((err) => {
      log.error({ event: 'http.unhandled_error', err, path: WEBHOOK_PATH }, 'webhook fast path failed');
      if (!outgoing.headersSent) {
        outgoing.writeHead(500, { 'content-type': 'application/json' });
        outgoing.end(JSON.stringify(errorBody('internal_error', 'an internal error occurred')));
      }
    });
  };
}
