// A media row as the API shows it, on conversation messages and elsewhere (SPEC §12).
import { z } from 'zod';
import type { MediaRow } from '../store/media-repo.js';

export const MEDIA_API_PATH = '/api/extensions/native-whatsapp/runtime/media';

export const mediaViewSchema = z.object({
  media_id: z.string(),
  type: z.string().describe('image, audio, video, document or sticker'),
  mime_type: z.string().nullable(),
  filename: z.string().nullable(),
  state: z.enum(['pending', 'stored', 'failed', 'expired']),
  error: z
    .string()
    .nullable()
    .describe(
      'why failed or expired (too_large, type_not_allowed, sha256_mismatch, not_found, http_error, timeout, network_error, redirect_other_host, storage_error, disk_full, evicted, retention); while pending, the last attempt’s problem',
    ),
  reason: z.string().nullable(),
  size_bytes: z.number().nullable(),
  sha256: z.string().nullable().describe('hex SHA-256 of the stored bytes'),
  url: z.string().nullable().describe('where to GET the bytes (standard token), when stored'),
});

export type MediaView = z.infer<typeof mediaViewSchema>;

export function toMediaView(row: MediaRow): MediaView {
  return {
    media_id: row.media_id,
    type: row.media_type,
    mime_type: row.mime_type,
    filename: row.filename,
    state: row.state,
    error: row.error,
    reason: row.reason,
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
    sha256: row.content_sha256,
    url: row.state === 'stored' ? `${MEDIA_API_PATH}/${encodeURIComponent(row.media_id)}` : null,
  };
}
