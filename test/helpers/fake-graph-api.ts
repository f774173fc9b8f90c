// A fake WhatsApp Cloud API: a real HTTP server on 127.0.0.1:0 that records every request and answers
// each call as scripted: accept with a wamid, answer any Cloud API error code with Meta's HTTP status
// and Graph error body, be slow, drop the connection, or send a raw answer. Unscripted calls get the
// default behaviour (accept). Used by transport tests and the outbound integration.
// Sends to a number given its own behaviour (forRecipient) get it every time, whatever the script.
// GET calls (template listing with paging, phone number fields) are answered from what the test
// set (setTemplates, setPhoneNumber) or from their own script (nextRead), and recorded in `reads`,
// so they never use up or show among the scripted sends.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lookupErrorCode } from '../../src/outbound/error-codes.js';

export type FakeBehaviour =
  | { accept: true; wamid?: string; messageStatus?: string }
  | { error: number; httpStatus?: number; message?: string; details?: string }
  | { drop: true }
  | { raw: { status: number; body: string; contentType?: string } };

/** A behaviour, optionally after a delay (the answer starts `delayMs` after the request arrived). */
export type FakeStep = FakeBehaviour & { delayMs?: number };

export interface FakeMedia {
  /** The bytes, or a function making them on each request (a benchmark's thousand files). */
  bytes: Buffer | (() => Buffer);
  mime_type: string;
  /** Override the hex SHA-256 the lookup gives (a wrong one, or null to leave it out). */
  sha256?: string | null;
  /** Override the declared file_size. */
  file_size?: number;
  /** Answer the lookup with this status and a Graph error instead. */
  lookupStatus?: number;
  /** The first N fetches of the url answer this status (404: expired url). */
  urlFailures?: { count: number; status: number };
  /** The url redirects to this absolute url. */
  redirectTo?: string;
  /** Bytes are sent in chunks of this size, `chunkDelayMs` apart (a slow download). */
  chunkBytes?: number;
  chunkDelayMs?: number;
  /** Omit content-length (the size shows only while streaming). */
  noLength?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** Wall-clock ms with sub-ms precision (performance.timeOrigin + now) when the headers arrived. */
  receivedAt: number;
  /** What the server did (an accepted call's `wamid` is the one it answered with). */
  answered: FakeBehaviour;
}

export interface FakeGraphApi {
  /** e.g. http://127.0.0.1:40123, to use as WHATSAPP_API_BASE_URL. */
  url: string;
  requests: RecordedRequest[];
  /** Script the next calls, in order; each call takes one step. */
  next(...steps: FakeStep[]): void;
  /** What calls get once the script is used up. */
  setDefault(step: FakeStep): void;
  /** Answer 401 / code 190 to any request whose bearer token is not this one (null: accept any). */
  requireToken(token: string | null): void;
  /**
   * Serve a media object: the lookup GET /{version}/{id} answers {url, mime_type, sha256, file_size, id}
   * and the url serves the bytes, both only with a bearer token (the configured one, if any).
   */
  addMedia(id: string, media: FakeMedia): void;
  /** How often each media url was fetched, by media id. */
  mediaFetches: Map<string, number>;
  /** Every send to this number gets `step` (before the script). */
  forRecipient(waId: string, step: FakeStep): void;
  /** GET calls recorded (template listing, phone number fields). */
  reads: RecordedRequest[];
  /** What GET /{waba}/message_templates lists, `pageSize` per page (paging.next links the rest). */
  setTemplates(templates: Record<string, unknown>[], pageSize?: number): void;
  /** What GET /{phone_number_id} answers (fields). */
  setPhoneNumber(fields: Record<string, unknown>): void;
  /** Script the next GET calls, in order (an accept step means "answer as set"). */
  nextRead(...steps: FakeStep[]): void;
  close(): Promise<void>;
}

export async function startFakeGraphApi(): Promise<FakeGraphApi> {
  const requests: RecordedRequest[] = [];
  const script: FakeStep[] = [];
  let fallback: FakeStep = { accept: true };
  let token: string | null = null;
  let counter = 0;
  const perRecipient = new Map<string, FakeStep>();
  const reads: RecordedRequest[] = [];
  const readScript: FakeStep[] = [];
  let templates: Record<string, unknown>[] = [];
  let pageSize = 2;
  let phoneNumber: Record<string, unknown> = {};
  let port = 0;

  function answerRead(req: IncomingMessage, res: ServerResponse, receivedAt: number): void {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const scripted = readScript.shift();
    const step: FakeStep =
      token !== null && req.headers.authorization !== `Bearer ${token}`
        ? { error: 190 }
        : (scripted ?? { accept: true });
    reads.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body: undefined,
      receivedAt,
      answered: step,
    });
    if (!('accept' in step)) {
      answer(step, req, res, undefined, () => '');
      return;
    }
    if (url.pathname.endsWith('/message_templates')) {
      const after = Number(url.searchParams.get('after') ?? '0');
      const page = templates.slice(after, after + pageSize);
      const nextAt = after + pageSize;
      const next = new URL(url);
      next.searchParams.set('after', String(nextAt));
      json(res, 200, {
        data: page,
        paging: {
          cursors: { before: String(after), after: String(nextAt) },
          ...(nextAt < templates.length ? { next: next.toString() } : {}),
        },
      });
      return;
    }
    json(res, 200, { id: url.pathname.split('/').pop(), ...phoneNumber });
  }

  const media = new Map<string, FakeMedia>();
  const mediaFetches = new Map<string, number>();
  let base = '';

  /** Media lookups, media bytes and uploads; false when the request is none of them. */
  function serveMedia(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://fake');
    const lookup = /^\/v\d+\.\d+\/([^/]+)$/.exec(url.pathname);
    const bytes = /^\/media-bytes\/([^/]+)$/.exec(url.pathname);
    const upload = req.method === 'POST' && /^\/v\d+\.\d+\/[^/]+\/media$/.test(url.pathname);
    const id = decodeURIComponent((lookup ?? bytes)?.[1] ?? '');
    const known = req.method === 'GET' && media.get(id);
    if (!known && !upload) return false;
    const authorized =
      token === null
        ? /^Bearer \S+/.test(req.headers.authorization ?? '')
        : req.headers.authorization === `Bearer ${token}`;
    if (!authorized) {
      req.resume();
      json(res, 401, {
        error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 },
      });
      return true;
    }
    if (upload) {
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
      });
      req.on('end', () => {
        requests.push({
          method: 'POST',
          path: req.url ?? '',
          authorization: req.headers.authorization,
          body: { multipart: true, bytes: size, content_type: req.headers['content-type'] },
          receivedAt: performance.timeOrigin + performance.now(),
          answered: { accept: true },
        });
        json(res, 200, { id: `fake-media-${++counter}` });
      });
      return true;
    }
    const spec = known as FakeMedia;
    // Made only when needed: a lookup whose hash and size were given does not make (or hash) the bytes.
    const bytesOf = () => (typeof spec.bytes === 'function' ? spec.bytes() : spec.bytes);
    if (lookup) {
      const m = spec;
      if (m.lookupStatus) {
        json(res, m.lookupStatus, {
          error: {
            message: 'lookup failed (fake)',
            type: 'OAuthException',
            code: m.lookupStatus === 404 ? 100 : 2,
          },
        });
        return true;
      }
      const sha = m.sha256 === undefined ? createHash('sha256').update(bytesOf()).digest('hex') : m.sha256;
      json(res, 200, {
        messaging_product: 'whatsapp',
        url: `${base}/media-bytes/${encodeURIComponent(id)}?ext=1`,
        mime_type: m.mime_type,
        ...(sha === null ? {} : { sha256: sha }),
        file_size: m.file_size ?? bytesOf().length,
        id,
      });
      return true;
    }
    const m = { ...spec, bytes: bytesOf() };
    const n = (mediaFetches.get(id) ?? 0) + 1;
    mediaFetches.set(id, n);
    if (m.urlFailures && n <= m.urlFailures.count) {
      res.writeHead(m.urlFailures.status, { 'content-type': 'text/plain' });
      res.end('no');
      return true;
    }
    if (m.redirectTo) {
      res.writeHead(302, { location: m.redirectTo });
      res.end();
      return true;
    }
    res.writeHead(200, {
      'content-type': m.mime_type,
      ...(m.noLength ? {} : { 'content-length': String(m.bytes.length) }),
    });
    const step = m.chunkBytes ?? m.bytes.length;
    let at = 0;
    const send = () => {
      if (res.destroyed) return;
      if (at >= m.bytes.length) {
        res.end();
        return;
      }
      const part = m.bytes.subarray(at, at + step);
      at += step;
      res.write(part);
      if (m.chunkDelayMs) setTimeout(send, m.chunkDelayMs);
      else send();
    };
    send();
    return true;
  }

  const server: Server = createServer((req, res) => {
    if (serveMedia(req, res)) return;
    const receivedAt = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') {
        answerRead(req, res, receivedAt);
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      // A bad token is answered as Meta does (and echoed back, as Graph does for a malformed token),
      // without using up a scripted step.
      const step: FakeStep =
        token !== null && req.headers.authorization !== `Bearer ${token}`
          ? {
              error: 190,
              message: `Malformed access token ${String(req.headers.authorization).replace(/^Bearer /, '')}`,
            }
          : (perRecipient.get(String((body as { to?: unknown } | undefined)?.to ?? '')) ??
            script.shift() ??
            fallback);
      const { delayMs, ...scripted } = step;
      // The wamid an accepted call gets is fixed (and recorded) before answering, so a test can tell
      // which of its calls the daemon recorded.
      const behaviour: FakeBehaviour =
        'accept' in scripted
          ? { ...scripted, wamid: scripted.wamid ?? `wamid.FAKE${String(++counter).padStart(8, '0')}` }
          : scripted;
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body,
        receivedAt,
        answered: behaviour,
      });
      const act = () =>
        answer(behaviour, req, res, body, () => `wamid.FAKE${String(++counter).padStart(8, '0')}`);
      if (delayMs) setTimeout(act, delayMs);
      else act();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    addMedia: (id, m) => {
      media.set(id, m);
    },
    mediaFetches,
    requests,
    next: (...steps) => script.push(...steps),
    setDefault: (step) => {
      fallback = step;
    },
    requireToken: (t) => {
      token = t;
    },
    forRecipient: (waId, step) => {
      perRecipient.set(waId, step);
    },
    reads,
    setTemplates: (list, size = 2) => {
      templates = list;
      pageSize = size;
    },
    setPhoneNumber: (fields) => {
      phoneNumber = fields;
    },
    nextRead: (...steps) => readScript.push(...steps),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(
  behaviour: FakeBehaviour,
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  nextWamid: () => string,
): void {
  if ('drop' in behaviour) {
    req.socket.destroy();
    return;
  }
  if ('raw' in behaviour) {
    res.writeHead(behaviour.raw.status, { 'content-type': behaviour.raw.contentType ?? 'text/plain' });
    res.end(behaviour.raw.body);
    return;
  }
  if ('error' in behaviour) {
    const known = lookupErrorCode(behaviour.error);
    const status = behaviour.httpStatus ?? known?.httpStatus ?? 400;
    const title = known?.title ?? 'Error';
    json(res, status, {
      error: {
        message: behaviour.message ?? `(#${behaviour.error}) ${title}`,
        type: 'OAuthException',
        code: behaviour.error,
        error_data: { messaging_product: 'whatsapp', details: behaviour.details ?? `${title} (fake)` },
        fbtrace_id: 'AfakeTraceId',
      },
    });
    return;
  }
  const b = body as { status?: string; to?: string; recipient?: string } | undefined;
  if (b?.status === 'read') {
    json(res, 200, { success: true });
    return;
  }
  json(res, 200, {
    messaging_product: 'whatsapp',
    contacts: [{ input: b?.to ?? b?.recipient ?? '', wa_id: b?.to ?? '' }],
    messages: [{ id: behaviour.wamid ?? nextWamid(), message_status: behaviour.messageStatus ?? 'accepted' }],
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
