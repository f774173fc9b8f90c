// GET .../runtime/media/:media_id streams a stored media file (SPEC §12): its content type, inline for
// images and as an attachment otherwise, nosniff and a sandboxing CSP (a customer's file must never
// run as a page of ours), one byte range at a time for players. POST .../runtime/media takes a
// multipart upload and answers the media_id to send it by.
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../lib/app-error.js';
import { servedInline } from '../../media/media-policy.js';
import { type MediaServiceDeps, openMedia, uploadMedia } from '../../media/media-service.js';
import type { ApiRouter } from '../api-router.js';

export const MEDIA_PATH = '/api/extensions/native-whatsapp/runtime/media';

const uploaded = z.object({
  media_id: z.string().describe('send it with reply_conversation context.media.media_id'),
  media_type: z.enum(['image', 'audio', 'video', 'document', 'sticker']),
  mime_type: z.string(),
  size_bytes: z.number(),
  sha256: z.string().describe('hex SHA-256 of the file'),
});

const form = z.object({
  file: z.string().describe('the file (binary part with its content type and file name)'),
  phone_number_id: z
    .string()
    .optional()
    .describe('the business number to upload for; the default channel when absent'),
});

export function mediaServiceDeps(deps: AppDeps): MediaServiceDeps {
  return {
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    config: deps.config,
    storage: () => deps.media.storage(),
    source: () => deps.media.source(),
  };
}

/** The stored media as a response: its type, inline only for images, nosniff, a sandboxing CSP, ranges. */
export async function mediaResponse(
  service: MediaServiceDeps,
  mediaId: string,
  rangeHeader: string | undefined,
): Promise<Response> {
  const opened = await openMedia(service, mediaId, rangeHeader);
  const { row, size, range } = opened;
  const mime = row.mime_type ?? 'application/octet-stream';
  const name = downloadName(row.filename, row.media_id, mime);
  const disposition = servedInline(row.media_type, mime) ? 'inline' : 'attachment';
  const headers: Record<string, string> = {
    'content-type': mime,
    'content-length': String(range ? range.end - range.start + 1 : size),
    'accept-ranges': 'bytes',
    'content-disposition': `${disposition}; filename="${name.ascii}"; filename*=UTF-8''${encodeURIComponent(name.full)}`,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, max-age=3600',
  };
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  return new Response(Readable.toWeb(opened.stream) as ReadableStream, {
    status: range ? 206 : 200,
    headers,
  });
}

export function mountMediaRoutes(router: ApiRouter, deps: AppDeps): void {
  const service = mediaServiceDeps(deps);

  router.add(
    {
      method: 'get',
      path: `${MEDIA_PATH}/:media_id`,
      tier: 'standard',
      tag: 'runtime',
      summary: 'The bytes of a stored media object (inbound download or upload).',
      description:
        'Content-Type is the stored type; images are served inline, everything else as an attachment; ' +
        'X-Content-Type-Options: nosniff. One `Range: bytes=a-b` is honoured (206), for audio and video ' +
        'players. 409 media_not_available while the media is pending, failed or expired (details.state, ' +
        'details.reason).',
      responses: {
        200: { description: 'the file' },
        206: { description: 'the requested range' },
        404: { description: 'no media with that id' },
        409: { description: 'media_not_available: pending, failed or expired' },
        416: { description: 'range_not_satisfiable' },
      },
    },
    (c, { params }) => mediaResponse(service, params.media_id as string, c.req.header('range')),
  );

  router.add(
    {
      method: 'post',
      path: MEDIA_PATH,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Upload a file to send: multipart/form-data with `file`; answers its media_id.',
      description:
        'Sent on to Meta (POST /{phone_number_id}/media) with an access token, kept locally in the sandbox; ' +
        'a copy is stored here either way. Types and sizes as WhatsApp takes them (image 5 MB, audio and ' +
        'video 16 MB, sticker 500 KB, documents), at most media.upload_max_bytes (default 16 MiB). 400 ' +
        'without a file or with a type not allowed, 413 too large, 415 not multipart, 502 Meta refused.',
      formBody: form,
      responses: {
        201: { description: 'uploaded', schema: uploaded },
        400: { description: 'no file, an empty file, or a type not allowed' },
        413: { description: 'too large for its type or media.upload_max_bytes' },
        415: { description: 'the body is not multipart/form-data' },
        502: { description: 'upstream_failed: the Cloud API did not take it' },
      },
    },
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      if (!/^multipart\/form-data\b/i.test(type)) {
        throw new AppError(
          'unsupported_media_type',
          `the body must be multipart/form-data with a "file" part, not ${type.split(';')[0] || 'nothing'}`,
        );
      }
      let data: FormData;
      try {
        data = await c.req.raw.formData();
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('bad_request', 'the multipart body cannot be read');
      }
      const file = data.get('file');
      if (!(file instanceof File)) {
        throw new AppError('validation_failed', 'invalid body: file is required (a file part named "file")', [
          { path: 'file', message: 'is required' },
        ]);
      }
      const pnid = data.get('phone_number_id');
      if (pnid !== null && (typeof pnid !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(pnid))) {
        throw new AppError('validation_failed', 'invalid body: phone_number_id must be a phone number id', [
          { path: 'phone_number_id', message: 'must be a phone number id' },
        ]);
      }
      const result = await uploadMedia(service, {
        bytes: new Uint8Array(await file.arrayBuffer()),
        mime_type: file.type,
        filename: file.name || 'file',
        phone_number_id: typeof pnid === 'string' ? pnid : deps.config().channels.phone_number_id,
      });
      return c.json(result, 201);
    },
  );
}

/** A file name safe in a header: the sent one (documents) or the media id with an extension. */
function downloadName(
  filename: string | null,
  mediaId: string,
  mime: string,
): { ascii: string; full: string } {
  const ext =
    mime
      .split('/')[1]
      ?.replace(/[^a-z0-9]/gi, '')
      .slice(0, 8) ?? 'bin';
  // Control characters, quotes and slashes never reach the header.
  const full = Array.from(filename ?? `${mediaId}.${ext}`, (ch) =>
    ch.charCodeAt(0) < 0x20 || ch === '\u007f' || ch === '"' || ch === '\\' || ch === '/' ? '_' : ch,
  )
    .join('')
    .slice(0, 200);
  const ascii = Array.from(full, (ch) => (ch.charCodeAt(0) > 0x7e ? '_' : ch)).join('');
  return { ascii, full };
}
