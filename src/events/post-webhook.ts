// One signed POST to a subscriber (SPEC §11): JSON body, Standard Webhooks headers, a hard timeout,
// redirects not followed (a 3xx is a failed attempt), and the answer's body never kept (a subscriber
// answering with garbage or a huge body costs nothing). Never throws: the outcome says what happened.
// node:http(s) with keep-alive agents, not fetch: fetch with its body cancelled closed the connection,
// so every delivery opened a new one, and undici's web streams cost more CPU per delivery than the
// rest of it together (bench/events/probe.ts). The answer is known at its status line; its body, if
// any, is read off and dropped in the background, up to a cap and the same deadline, so that the
// connection can carry the next delivery.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostOutcome {
  /** The HTTP status, or null when no answer came (refused, DNS, timeout, reset). */
  status: number | null;
  ok: boolean;
  latency_ms: number;
  error: string | null;
}

/** Connections kept per subscriber host: deliveries per subscription run at most 64 at once. */
const MAX_SOCKETS = 64;
/** An answer's body beyond this is not worth reading to keep the connection: it is closed instead. */
const MAX_DRAINED_BYTES = 64 * 1024;
const USER_AGENT = 'native-whatsapp-webhooks/1';

/** An idle kept-alive connection is closed after this (a subscriber removed, or one that never closes). */
const IDLE_MS = 30_000;
// LIFO: the connection used last is the one least likely to have been closed by the subscriber.
const agentOptions = {
  keepAlive: true,
  maxSockets: MAX_SOCKETS,
  scheduling: 'lifo',
  timeout: IDLE_MS,
} as const;
const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };

export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  return new Promise<PostOutcome>((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ status: null, ok: false, latency_ms: 0, error: 'request failed (invalid url)' });
      return;
    }
    const https = target.protocol === 'https:';
    const payload = Buffer.from(body, 'utf8');
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    let retried = false;
    function send(): void {
      const req = (https ? httpsRequest : httpRequest)(
        target,
        {
          method: 'POST',
          agent: https ? agents.https : agents.http,
          headers: {
            'content-type': 'application/json',
            'content-length': String(payload.length),
            'user-agent': USER_AGENT,
            ...headers,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          finish({
            status,
            ok,
            latency_ms: latency(),
            error: ok ? null : status >= 300 && status < 400 ? 'redirect not followed' : `HTTP ${status}`,
          });
          discard(res);
        },
      );
      // One deadline for the whole exchange, the body's drain included: a subscriber that trickles
      // never holds a socket past it.
      const timer = setTimeout(() => {
        finish({ status: null, ok: false, latency_ms: latency(), error: 'timed out' });
        req.destroy();
      }, timeoutMs);
      timer.unref();
      req.once('close', () => clearTimeout(timer));
      req.once('error', (err) => {
        // A kept-alive connection the subscriber closed as this request went out (a race every
        // keep-alive client has; the request almost surely never arrived): it goes once more on a fresh
        // connection instead of counting as a failed attempt (at least once allows the rare duplicate).
        if (!settled && !retried && req.reusedSocket && (err as { code?: string }).code === 'ECONNRESET') {
          retried = true;
          clearTimeout(timer);
          send();
          return;
        }
        finish({ status: null, ok: false, latency_ms: latency(), error: describe(err) });
      });
      req.end(payload);
    }
    send();
  });
}

/** Reads the answer's body off and drops it; past the cap the connection is closed instead. */
function discard(res: IncomingMessage): void {
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_DRAINED_BYTES) res.destroy();
  });
  res.once('error', () => undefined);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `connection failed (${e.code})` : `request failed (${e.message ?? 'unknown'})`;
}
