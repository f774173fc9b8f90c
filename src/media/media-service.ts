// What the media API does (SPEC §12): serve a stored media file (whole or one byte range) and take an
// upload (sent on to Meta's /{phone_number_id}/media, or kept locally in the sandbox). Routes call
// these; HTTP details (headers, status) are shaped in http/routes/media.ts.
import type { Readable } from 'node:stream';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { type MediaRow, mediaRepo } from '../store/media-repo.js';
import { withTransaction } from '../store/transactions.js';
import type { MediaSource } from './graph-media-source.js';
import { baseMime, isMediaKind, type MediaKind, mimeAllowed, sizeLimit } from './media-policy.js';
import { MediaProblem } from './media-problem.js';
import type { MediaStorage } from './storage.js';

export interface MediaServiceDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  config: () => Config;
  storage: () => MediaStorage;
  source: () => MediaSource;
}

export interface OpenedMedia {
  row: MediaRow;
  size: number;
  /** The byte range served, inclusive; absent for the whole file. */
  range?: { start: number; end: number };
  stream: Readable;
}

/** The stored bytes of a media id, or why not (404 unknown, 409 not stored, 416 bad range). */
export async function openMedia(
  deps: MediaServiceDeps,
  mediaId: string,
  rangeHeader: string | undefined,
): Promise<OpenedMedia> {
  const row = await mediaRepo.getByMediaId(deps.db, mediaId);
  if (!row) throw new AppError('not_found', `no media with id ${JSON.stringify(mediaId.slice(0, 100))}`);
  const size =
    row.state === 'stored' && row.content_sha256 ? await deps.storage().size(row.content_sha256) : undefined;
  if (row.state !== 'stored' || !row.content_sha256 || size === undefined) {
    throw new AppError(
      'media_not_available',
      `media ${row.media_id} is ${row.state === 'stored' ? 'missing on disk' : row.state}${row.reason ? `: ${row.reason}` : ''}`,
      {
        state: row.state,
        error: row.error,
        reason: row.reason,
      },
    );
  }
  const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, size);
  if (range === null) {
    throw new AppError(
      'range_not_satisfiable',
      `the range ${(rangeHeader ?? '').slice(0, 100)} is not within the ${size} bytes of this media`,
      { size },
      {
        'Content-Range': `bytes */${size}`,
      },
    );
  }
  return { row, size, ...(range ? { range } : {}), stream: deps.storage().open(row.content_sha256, range) };
}

/**
 * One `bytes=` range (the only kind players ask for): undefined means "serve it whole" (no or an
 * unknown unit, or several ranges), null means unsatisfiable (416).
 */
export function parseRange(header: string, size: number): { start: number; end: number } | undefined | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return /^bytes=/.test(header.trim()) && !header.includes(',') ? null : undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return null;
  return { start, end };
}

export interface UploadInput {
  bytes: Uint8Array;
  mime_type: string;
  filename: string;
  phone_number_id: string;
}

export interface UploadResult {
  media_id: string;
  media_type: MediaKind;
  mime_type: string;
  size_bytes: number;
  sha256: string;
}

/** The media type a MIME type is sent as (stickers are only sent by media_id with type sticker). */
export function kindForMime(mime: string): MediaKind | null {
  if (mime === 'image/webp') return 'sticker';
  for (const kind of ['image', 'audio', 'video'] as const) if (mimeAllowed(kind, mime)) return kind;
  return mimeAllowed('document', mime) ? 'document' : null;
}

export async function uploadMedia(deps: MediaServiceDeps, input: UploadInput): Promise<UploadResult> {
  const config = deps.config();
  const mime = baseMime(input.mime_type);
  const kind = mime ? kindForMime(mime) : null;
  if (!mime || !kind || !isMediaKind(kind)) {
    throw new AppError(
      'validation_failed',
      `invalid body: file has a type WhatsApp does not take (${input.mime_type.slice(0, 100) || 'none'})`,
      [{ path: 'file', message: 'type not allowed' }],
    );
  }
  const limit = Math.min(sizeLimit(kind, config.media), config.media.upload_max_bytes);
  if (input.bytes.length > limit) {
    throw new AppError(
      'payload_too_large',
      `the ${kind} is ${input.bytes.length} bytes; the limit is ${limit}`,
    );
  }
  if (input.bytes.length === 0) {
    throw new AppError('validation_failed', 'invalid body: file is empty', [
      { path: 'file', message: 'is empty' },
    ]);
  }
  const source = deps.source();
  let mediaId: string;
  try {
    mediaId = (
      await source.upload(
        input.phone_number_id,
        { ...input, mime_type: mime },
        AbortSignal.timeout(config.media.download_timeout),
      )
    ).media_id;
  } catch (err) {
    if (!(err instanceof MediaProblem)) throw err;
    throw new AppError('upstream_failed', `the Cloud API did not take the upload: ${err.message}`);
  }
  // Kept here too (content-addressed like downloads), so the conversation shows what was sent and
  // the sandbox, where nothing else holds the bytes, can serve them.
  const storage = deps.storage();
  await storage.prepare();
  const written = await storage.writeTemp(
    'upload',
    (async function* () {
      yield input.bytes;
    })(),
    limit,
  );
  await storage.commit(written.tmp, written.sha256);
  const sha = written.sha256;
  const now = deps.clock.now();
  await withTransaction(deps.db, (trx) =>
    mediaRepo.insertIfNew(trx, {
      id: deps.ids.next(),
      media_id: mediaId,
      direction: 'outbound',
      message_wamid: null,
      conversation_id: null,
      phone_number_id: input.phone_number_id,
      media_type: kind,
      mime_type: mime,
      filename: input.filename.slice(0, 240),
      declared_sha256: null,
      state: 'stored',
      error: null,
      reason: null,
      attempts: 0,
      next_attempt_at: now,
      lease_owner: null,
      lease_until: null,
      content_sha256: sha,
      size_bytes: input.bytes.length,
      created_at: now,
      updated_at: now,
      stored_at: now,
    }),
  );
  return {
    media_id: mediaId,
    media_type: kind,
    mime_type: mime,
    size_bytes: input.bytes.length,
    sha256: sha,
  };
}
