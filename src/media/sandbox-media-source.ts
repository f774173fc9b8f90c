// The sandbox's media (no access token, SPEC §12): every media id resolves to placeholder bytes made
// here (a small PNG for images and stickers, a short text for the other types), served through the
// same download path as Meta's, so simulate and a new install show stored media without Meta. An
// upload in the sandbox gets a `sandbox-media-<id>` id and its bytes are stored locally by the caller.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { MediaBody, MediaSource, ResolvedMedia } from './graph-media-source.js';

export function createSandboxMediaSource(options: { nextId: () => string }): MediaSource {
  const byUrl = new Map<string, { bytes: Buffer; mime: string }>();
  return {
    name: 'sandbox',
    async resolve(mediaId) {
      const placeholder = placeholderFor(mediaId);
      const url = `sandbox:${mediaId}`;
      // Bounded: one small entry per media resolved and not yet fetched.
      if (byUrl.size > 1000) byUrl.clear();
      byUrl.set(url, placeholder);
      return {
        url,
        mime_type: placeholder.mime,
        sha256: createHash('sha256').update(placeholder.bytes).digest('hex'),
        file_size: placeholder.bytes.length,
      } satisfies ResolvedMedia;
    },
    async fetch(resolved): Promise<MediaBody> {
      const found = byUrl.get(resolved.url) ?? placeholderFor(resolved.url.replace(/^sandbox:/, ''));
      byUrl.delete(resolved.url);
      return {
        stream: (async function* () {
          yield found.bytes;
        })(),
        content_length: found.bytes.length,
        content_type: found.mime,
      };
    },
    async upload() {
      return { media_id: `sandbox-media-${options.nextId()}` };
    },
  };
}

/**
 * A sandbox media id made by simulate names its type (`...image...`); otherwise it is an image.
 * Types are told apart by a hint in the id because the lookup, as Meta's, only has the id.
 */
function placeholderFor(mediaId: string): { bytes: Buffer; mime: string } {
  const kind = /audio|voice/i.test(mediaId)
    ? 'audio'
    : /video/i.test(mediaId)
      ? 'video'
      : /doc|pdf/i.test(mediaId)
        ? 'document'
        : 'image';
  if (kind === 'image') return { bytes: placeholderPng(mediaId), mime: 'image/png' };
  const text = `native-whatsapp sandbox placeholder for ${kind} media ${mediaId}\n`;
  const mime = kind === 'document' ? 'text/plain' : kind === 'audio' ? 'audio/aac' : 'video/mp4';
  return { bytes: Buffer.from(text, 'utf8'), mime };
}

/** A 32×32 PNG of one colour taken from the media id, so different media look different. */
export function placeholderPng(seed: string): Buffer {
  const [r, g, b] = createHash('sha256').update(seed).digest();
  const size = 32;
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) row.set([r ?? 0, g ?? 0, b ?? 0], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

let table: Uint32Array | undefined;
function crc32(buf: Buffer): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const byte of buf) c = (table[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
