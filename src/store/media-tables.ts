// Row type of the media table (migrations/0012_media.ts, SPEC §12).

export type MediaState = 'pending' | 'stored' | 'failed' | 'expired';

export interface MediaTable {
  id: string;
  media_id: string;
  direction: 'inbound' | 'outbound';
  message_wamid: string | null;
  conversation_id: string | null;
  phone_number_id: string;
  media_type: string;
  mime_type: string | null;
  filename: string | null;
  declared_sha256: string | null;
  state: MediaState;
  /** A short code for why it failed or expired (too_large, sha256_mismatch, evicted, ...). */
  error: string | null;
  /** A sentence for people. */
  reason: string | null;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  content_sha256: string | null;
  size_bytes: number | null;
  created_at: number;
  updated_at: number;
  stored_at: number | null;
}

export interface MediaTables {
  media: MediaTable;
}
