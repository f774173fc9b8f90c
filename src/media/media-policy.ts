// What media the daemon accepts (SPEC §12), as plain functions: the size limit of each type (Meta's,
// from config), the MIME types each type may have, and the SHA-256 check that accepts the lookup's
// hex and the webhook's base64 alike.
import type { Config } from '../config/schema.js';

export const MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_TYPES)[number];

export function isMediaKind(type: string): type is MediaKind {
  return (MEDIA_TYPES as readonly string[]).includes(type);
}

// Meta's supported media types (Cloud API reference, "Supported media types"), plus webp and gif
// images that customers' phones send in practice.
const ALLOWED: Record<Exclude<MediaKind, 'document'>, readonly string[]> = {
  image: ['image/jpeg', 'image/png', 'image/webp', 'image/gif'],
  sticker: ['image/webp', 'image/png'],
  audio: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg', 'audio/opus', 'audio/wav'],
  video: ['video/mp4', 'video/3gpp'],
};

// A customer may send any file as a document; those a browser would run rather than save are refused.
const ACTIVE_CONTENT = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/javascript',
  'application/javascript',
  'application/x-msdownload',
  'application/x-sh',
]);

/** "audio/ogg; codecs=opus" → "audio/ogg"; null for something that is not a MIME type. */
export function baseMime(mime: string | null | undefined): string | null {
  if (!mime) return null;
  const base = mime.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(base) ? base : null;
}

export function mimeAllowed(kind: MediaKind, mime: string | null): boolean {
  const base = baseMime(mime);
  if (base === null) return false;
  if (kind === 'document') return !ACTIVE_CONTENT.has(base);
  return ALLOWED[kind].includes(base);
}

export function sizeLimit(kind: MediaKind, config: Config['media']): number {
  return config.max_bytes[kind];
}

/** A declared SHA-256 as hex: 64 hex digits as they are, base64 (Meta's webhooks) decoded. */
export function sha256Hex(declared: string | null | undefined): string | null {
  if (!declared) return null;
  const s = declared.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) return null;
  const bytes = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : null;
}

/** Whether images are shown inline when served; everything else is an attachment. */
export function servedInline(kind: string, mime: string | null): boolean {
  const base = baseMime(mime);
  return (
    (kind === 'image' || kind === 'sticker') &&
    base !== null &&
    base.startsWith('image/') &&
    base !== 'image/svg+xml'
  );
}
