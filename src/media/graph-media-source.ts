// Where media bytes come from. `graph`: Meta's Cloud API: GET {base}/{version}/{media_id} gives
// {url, mime_type, sha256, file_size}; the url (valid for minutes) is fetched with the same bearer
// token, redirects followed only on the same host. `sandbox` (no access token): placeholder bytes made
// here, so simulate and the sandbox go through the same download path (sandbox-media-source.ts).
// Nothing here throws anything but a MediaProblem, and the token never appears in one.
import { Readable } from 'node:stream';
import { MediaProblem } from './media-problem.js';

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
  resolve(mediaId: string, signal: AbortSignal): Promise<ResolvedMedia>;
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

export function createGraphMediaSource(options: GraphMediaOptions): MediaSource {
  const base = options.baseUrl.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${options.accessToken}` };

  async function call(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'manual' });
    } catch (err) {
      throw networkProblem(err, what);
    }
  }

  return {
    name: 'graph',
    async resolve(mediaId, signal) {
      const res = await call(
        `${base}/${options.version}/${encodeURIComponent(mediaId)}`,
        { headers: { ...auth, accept: 'application/json' }, signal },
        'the media lookup',
      );
      const text = await readSmall(res, signal);
      if (res.status === 404 || (res.status === 400 && /"code"\s*:\s*100\b/.test(text))) {
        throw new MediaProblem(
          'not_found',
          `Meta does not know media ${mediaId} (deleted or expired)`,
          false,
        );
      }
      if (res.status === 401 || res.status === 403) {
        throw new MediaProblem('unauthorized', `the media lookup answered ${res.status}`, true);
      }
      if (res.status < 200 || res.status >= 300) {
        throw new MediaProblem('http_error', `the media lookup answered ${res.status}`, res.status >= 500);
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
        const res = await call(url.href, { headers: auth, signal }, 'the media download');
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => undefined);
          const location = res.headers.get('location');
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
        if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410) {
          await res.body?.cancel().catch(() => undefined);
          throw new MediaProblem('url_expired', `the media url answered ${res.status}`, true);
        }
        if (res.status < 200 || res.status >= 300 || !res.body) {
          await res.body?.cancel().catch(() => undefined);
          throw new MediaProblem(
            'http_error',
            `the media url answered ${res.status}`,
            res.status >= 500 || res.status === 429,
          );
        }
        const length = Number(res.headers.get('content-length'));
        return {
          stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
          content_length: Number.isFinite(length) && res.headers.has('content-length') ? length : null,
          content_type: res.headers.get('content-type'),
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
      const text = await readSmall(res, signal);
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
async function readSmall(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)) {
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
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new MediaProblem('timeout', `${what} timed out`, true);
  }
  const code = e?.cause?.code;
  return new MediaProblem('network_error', `${what} failed (network error${code ? ` ${code}` : ''})`, true);
}
