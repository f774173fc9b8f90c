// An inbound message with media (image, audio, video, document, sticker) leaves a pending media row
// in the same transaction as the message, so the download is durable work from the moment the
// message is (SPEC §12). The downloader takes it from there.
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { mediaRepo } from '../store/media-repo.js';
import type { InboundMessage } from '../webhook/payload.js';
import { isMediaKind } from './media-policy.js';

/** Longest media id, MIME type, file name or hash kept from a webhook (SPEC §9a caps). */
const CAP = 256;

export async function recordInboundMedia(
  trx: Db,
  msg: Partial<InboundMessage> & { id: string; type: string },
  at: { phone_number_id: string; conversation_id: string | null },
  ctx: { ids: IdSource; now: number },
): Promise<boolean> {
  if (!isMediaKind(msg.type)) return false;
  const media = msg[msg.type];
  if (!media?.id || media.id.length > CAP) return false;
  return mediaRepo.insertIfNew(trx, {
    id: ctx.ids.next(),
    media_id: media.id,
    direction: 'inbound',
    message_wamid: msg.id,
    conversation_id: at.conversation_id,
    phone_number_id: at.phone_number_id,
    media_type: msg.type,
    mime_type: media.mime_type?.slice(0, CAP) ?? null,
    filename: media.filename?.slice(0, CAP) ?? null,
    declared_sha256: media.sha256?.slice(0, CAP) ?? null,
    state: 'pending',
    error: null,
    reason: null,
    attempts: 0,
    next_attempt_at: ctx.now,
    lease_owner: null,
    lease_until: null,
    content_sha256: null,
    size_bytes: null,
    created_at: ctx.now,
    updated_at: ctx.now,
    stored_at: null,
  });
}
