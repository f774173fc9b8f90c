// The sandbox's media (no access token, SPEC §12): every media id resolves to placeholder bytes made
// here (real small files of each type: sandbox-files.ts), served through the
// same download path as Meta's, so simulate and a new install show stored media without Meta. An
// upload in the sandbox gets a `sandbox-media-<id>` id and its bytes are stored locally by the caller.
import { createHash } from 'node:crypto';
import type { MediaBody, MediaSource, ResolvedMedia } from './graph-media-source.js';
import { placeholderMp4, placeholderOggOpus, placeholderPdf, placeholderPng } from './sandbox-files.js';

export function createSandboxMediaSource(options: { nextId: () => string }): MediaSource {
  const byUrl = new Map<string, { bytes: Buffer; mime: string }>();
  return {
    name: 'sandbox',
    async resolve(mediaId, _signal, kind) {
      const placeholder = placeholderFor(mediaId, kind);
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
 * A file of the message's media type; without one (a lookup by id alone), a hint in the id
 * (`...voice...`, `...video...`, `...doc...`) picks it, else an image.
 */
function placeholderFor(mediaId: string, kind?: string): { bytes: Buffer; mime: string } {
  const type =
    kind ??
    (/audio|voice/i.test(mediaId)
      ? 'audio'
      : /video/i.test(mediaId)
        ? 'video'
        : /doc|pdf/i.test(mediaId)
          ? 'document'
          : 'image');
  if (type === 'audio') return { bytes: placeholderOggOpus(mediaId), mime: 'audio/ogg' };
  if (type === 'video') return { bytes: placeholderMp4(mediaId), mime: 'video/mp4' };
  if (type === 'document') return { bytes: placeholderPdf(mediaId), mime: 'application/pdf' };
  return { bytes: placeholderPng(mediaId), mime: 'image/png' };
}
