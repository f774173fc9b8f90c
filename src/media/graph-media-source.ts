// Where media bytes come from. `graph`: Meta's Cloud API: GET {base}/{version}/{media_id} gives
// {url, mime_type, sha256, file_size}; the url (valid for minutes) is fetched with the same bearer
// token, redirects followed only on the same host. `sandbox` (no access token): placeholder bytes made
// here, so simulate and the sandbox go through the same download path (sandbox-media-source.ts).
// Nothing here throws anything but a MediaProblem, and the token never appears in one.
// The lookup and the bytes go over node:http(s) with keep-alive agents, not fetch: the body is a Node
// stream piped straight to disk, where fetch's web stream (and its per-request machinery) cost the
// downloader more CPU than the rest of a download together (bench/media profile). The upload, a
// multipart form, still goes through fetch.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { MediaProblem } from './media-problem.js';
import { createSharedReadAgents } from './shared-read-agents.js';

export interface ResolvedMedia {
  url: string;
  mime_type: string | null;
  /** As the lookup gives it: 64 hex digits. */
  sha256: string | null;
  file_size: number | null;
}

export interface MediaBody {
  stream: AsyncIterable<Uint8Array>;
  content_length: number | null;
  content_type: string | null;
}

export interface UploadedMedia {
  media_id: string;
}

export interface MediaSource {
  readonly name: 'graph' | 'sandbox';
  /** `kind` is the message's media type: Meta's lookup has no use for it, the sandbox makes a file of it. */
  resolve(mediaId: string, signal: AbortSignal, kind?: string): Promise<ResolvedMedia>;
  /** The bytes behind a resolved url. A 401/403/404 of the url is `url_expired`: resolve again. */
  fetch(resolved: ResolvedMedia, signal: AbortSignal): Promise<MediaBody>;
  /** POST /{phone_number_id}/media (multipart): Meta's media id for the file. */
  upload(
    phoneNumberId: string,
    file: { bytes: Uint8Array; mime_type: string; filename: string },
    signal: AbortSignal,
  ): Promise<UploadedMedia>;
}

export interface GraphMediaOptions {
  baseUrl: string;
  version: string;
  accessToken: string;
}

const MAX_REDIRECTS = 3;
/** Connections kept per host; the downloader's own concurrency (media.concurrency) is at most 32. */
const MAX_SOCKETS = 32;

export function createGraphMediaSource(options: GraphMediaOptions): MediaSource {
  const base = options.baseUrl.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${options.accessToken}` };

  // Their sockets read into one shared buffer, not a new one per read (shared-read-agents.ts).
  const agents = createSharedReadAgents({ keepAlive: true, maxSockets: MAX_SOCKETS });

  async function call(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'manual' });
    } catch (err) {
      throw networkProblem(err, what);
    }
  }

  /** A GET with the bearer token; redirects are not followed (the caller decides). */
  function get(
    url: URL,
    accept: string | undefined,
    signal: AbortSignal,
    what: string,
  ): Promise<IncomingMessage> {
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: 'GET',
          agent: https ? agents.https : agents.http,
          headers: { ...auth, ...(accept ? { accept } : {}) },
          signal,
        },
        resolve,
      );
      req.once('error', (err) => reject(networkProblem(signal.aborted ? signal.reason : err, what)));
      req.end();
    });
  }

  return {
    name: 'graph',
    async resolve(mediaId, signal) {
      const res = await get(
        new URL(`${base}/${options.version}/${encodeURIComponent(mediaId)}`),
        'application/json',
        signal,
        'the media lookup',
      );
      const status = res.statusCode ?? 0;
      const text = await readSmall(res, signal);
      if (status === 404 || (status === 400 && /"code"\s*:\s*100\b/.test(text))) {
        throw new MediaProblem(
          'not_found',
          `Meta does not know media ${mediaId} (deleted or expired)`,
          false,
        );
      }
      if (status === 401 || status === 403) {
        throw new MediaProblem('unauthorized', `the media lookup answered ${status}`, true);
      }
      if (status < 200 || status >= 300) {
        throw new MediaProblem('http_error', `the media lookup answered ${status}`, status >= 500);
      }
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new MediaProblem('bad_lookup', 'the media lookup answer is not JSON', true);
      }
      if (typeof json.url !== 'string' || !/^https?:\/\//i.test(json.url)) {
        throw new MediaProblem('bad_lookup', 'the media lookup answer has no http(s) url', false);
      }
      const size = Number(json.file_size);
      return {
        url: json.url,
        mime_type: typeof json.mime_type === 'string' ? json.mime_type : null,
        sha256: typeof json.sha256 === 'string' ? json.sha256 : null,
        file_size: Number.isFinite(size) && size >= 0 ? size : null,
      };
    },
    async fetch(resolved, signal) {
      let url = new URL(resolved.url);
      const host = url.host;
      for (let hop = 0; ; hop++) {
        const res = await get(url, undefined, signal, 'the media download');
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          // Bodies not wanted are dropped, never left to hold their socket.
          res.resume();
          const location = res.headers.location;
          const next = location ? safeUrl(location, url) : undefined;
          // The bearer token goes with every hop, so it only ever goes to the host Meta named.
          if (!next || next.host !== host || !/^https?:$/.test(next.protocol)) {
            throw new MediaProblem(
              'redirect_other_host',
              `the media url redirected to another host${next ? ` (${next.host})` : ''}; not followed`,
              false,
            );
          }
          if (hop >= MAX_REDIRECTS) {
            throw new MediaProblem('http_error', 'the media url redirected too often', false);
          }
          url = next;
          continue;
        }
        if (status === 401 || status === 403 || status === 404 || status === 410) {
          res.resume();
          throw new MediaProblem('url_expired', `the media url answered ${status}`, true);
        }
        if (status < 200 || status >= 300) {
          res.resume();
          throw new MediaProblem(
            'http_error',
            `the media url answered ${status}`,
            status >= 500 || status === 429,
          );
        }
        const declared = res.headers['content-length'];
        const length = Number(declared);
        return {
          stream: res,
          content_length: declared !== undefined && Number.isFinite(length) ? length : null,
          content_type: res.headers['content-type'] ?? null,
        };
      }
    },
    async upload(phoneNumberId, file, signal) {
      const form = new FormData();
      form.set('messaging_product', 'whatsapp');
      form.set('type', file.mime_type);
      form.set('file', new Blob([file.bytes], { type: file.mime_type }), file.filename);
      const res = await call(
        `${base}/${options.version}/${encodeURIComponent(phoneNumberId)}/media`,
        { method: 'POST', headers: auth, body: form, signal },
        'the media upload',
      );
      const text = await readSmall(
        res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) : Readable.from([]),
        signal,
      );
      if (res.status < 200 || res.status >= 300) {
        throw new MediaProblem('http_error', `the media upload answered ${res.status}`, res.status >= 500);
      }
      try {
        const json = JSON.parse(text) as { id?: unknown };
        if (typeof json.id === 'string' && json.id !== '') return { media_id: json.id };
      } catch {
        // fall through
      }
      throw new MediaProblem('bad_lookup', 'the media upload answer has no id', false);
    },
  };
}

/** A JSON answer, read up to 64 KiB (a lookup answer is a few hundred bytes). */
async function readSmall(body: Readable, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // Leaving the loop early (too large) destroys the stream, so its socket is not left half read.
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) throw new MediaProblem('bad_lookup', 'the Graph answer is too large', false);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof MediaProblem) throw err;
    throw networkProblem(signal.aborted ? signal.reason : err, 'the Graph answer');
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeUrl(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

export function networkProblem(err: unknown, what: string): MediaProblem {
  if (err instanceof MediaProblem) return err;
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new MediaProblem('timeout', `${what} timed out`, true);
  }
  // fetch wraps the socket's error as its cause; node:http gives it as it is.
  const code = e?.cause?.code ?? e?.code;
  return new MediaProblem('network_error', `${what} failed (network error${code ? ` ${code}` : ''})`, true);
}
