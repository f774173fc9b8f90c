// The sandbox's placeholder media (SPEC §12): small but real files of each type, so a new user who
// opens a stored voice note, video or document from the sandbox gets something that plays or shows.
// A 32×32 PNG (images, stickers), a one-second silent Ogg Opus (audio/ogg, as WhatsApp voice notes),
// a one-frame 16×16 H.264 MP4 (its one macroblock coded as I_PCM: raw samples, so no encoder is
// needed) and a one-page PDF. Each takes a seed (the media id) so different media differ.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

function seedBytes(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/** A 32×32 PNG of one colour taken from the seed. */
export function placeholderPng(seed: string): Buffer {
  const [r, g, b] = seedBytes(seed);
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
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

let pngTable: Uint32Array | undefined;
/** CRC-32 as PNG (and zip) define it: reflected, polynomial 0xEDB88320. */
function crc32(buf: Buffer): number {
  if (!pngTable) {
    pngTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      pngTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const byte of buf) c = (pngTable[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A one-page PDF saying what it is. */
export function placeholderPdf(seed: string): Buffer {
  const label = `native-whatsapp sandbox document ${seed.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60)}`;
  const text = `BT /F1 12 Tf 24 72 Td (${label}) Tj ET\n`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(text)} >>\nstream\n${text}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) out += `${String(at).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** One second of silence as Ogg Opus (RFC 7845): OpusHead, OpusTags, 50 frames of 20 ms. */
export function placeholderOggOpus(seed: string): Buffer {
  const serial = seedBytes(seed).readUInt32LE(0);
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'ascii');
  head.writeUInt8(1, 8); // version
  head.writeUInt8(1, 9); // mono
  head.writeUInt16LE(312, 10); // pre-skip, as libopus encoders write it
  head.writeUInt32LE(48_000, 12); // input sample rate
  head.writeInt16LE(0, 16); // output gain
  head.writeUInt8(0, 18); // channel mapping family 0
  const vendor = Buffer.from('native-whatsapp sandbox', 'ascii');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'ascii');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);
  // TOC 0xF8: CELT-only, fullband, 20 ms, one frame; 0xFF 0xFE codes silence (the frame libopus
  // and voice bots use for silence).
  const frames = Array.from({ length: 50 }, () => Buffer.from([0xf8, 0xff, 0xfe]));
  return Buffer.concat([
    oggPage({ serial, sequence: 0, granule: 0n, flags: 0x02, packets: [head] }),
    oggPage({ serial, sequence: 1, granule: 0n, flags: 0, packets: [tags] }),
    // The granule counts 48 kHz samples including the pre-skip: 50 × 960 + 312.
    oggPage({ serial, sequence: 2, granule: BigInt(50 * 960 + 312), flags: 0x04, packets: frames }),
  ]);
}

function oggPage(page: {
  serial: number;
  sequence: number;
  granule: bigint;
  flags: number;
  packets: Buffer[];
}): Buffer {
  // Lacing: each packet as 255-byte segments and a final one under 255 (all ours are short).
  const lacing: number[] = [];
  for (const p of page.packets) {
    let left = p.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'ascii');
  header.writeUInt8(0, 4);
  header.writeUInt8(page.flags, 5);
  header.writeBigUInt64LE(page.granule, 6);
  header.writeUInt32LE(page.serial, 14);
  header.writeUInt32LE(page.sequence, 18);
  header.writeUInt32LE(0, 22); // checksum, filled in below
  header.writeUInt8(lacing.length, 26);
  header.set(lacing, 27);
  const out = Buffer.concat([header, ...page.packets]);
  out.writeUInt32LE(oggCrc(out), 22);
  return out;
}

let oggTable: Uint32Array | undefined;
/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final xor (RFC 3533). */
export function oggCrc(buf: Buffer): number {
  if (!oggTable) {
    oggTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      oggTable[n] = c >>> 0;
    }
  }
  let c = 0;
  for (const byte of buf) c = ((c << 8) ^ (oggTable[((c >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  return c >>> 0;
}

/** A one-second MP4 (ISO BMFF, H.264 Constrained Baseline) of one 16×16 frame of one colour. */
export function placeholderMp4(seed: string): Buffer {
  const [a = 0, b = 0, c = 0] = seedBytes(seed);
  // Video range (16–235 luma, 16–240 chroma), which also keeps 0x00 bytes out of the samples, so the
  // NAL unit needs no emulation-prevention bytes.
  const y = 16 + (a % 220);
  const cb = 16 + (b % 225);
  const cr = 16 + (c % 225);
  // SPS: profile 66, constraint_set0+1, level 1.0; id 0, log2_max_frame_num 4, POC type 2, one
  // reference frame, 1×1 macroblocks, frame_mbs_only, direct_8x8_inference, no crop, no VUI.
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x0a, 0xda, 0x79]);
  // PPS: ids 0, CAVLC, one slice group, QP 26, no deblocking control, trailing bits.
  const pps = Buffer.from([0x68, 0xce, 0x38, 0x80]);
  // IDR slice: first_mb 0, slice_type 7 (I), pps 0, frame_num 0, idr_pic_id 0, ref marking 0 0,
  // qp_delta 0, then mb_type 25 (I_PCM) and alignment: 0x88 0x84 0x86 0x80. Then 256 luma and
  // 2 × 64 chroma samples, then the RBSP stop bit.
  const slice = Buffer.concat([
    Buffer.from([0x65, 0x88, 0x84, 0x86, 0x80]),
    Buffer.alloc(256, y),
    Buffer.alloc(64, cb),
    Buffer.alloc(64, cr),
    Buffer.from([0x80]),
  ]);
  const sample = Buffer.concat([u32(slice.length), slice]);
  const avcC = box(
    'avcC',
    Buffer.from([1, 0x42, 0xc0, 0x0a, 0xff, 0xe1]),
    u16(sps.length),
    sps,
    Buffer.from([1]),
    u16(pps.length),
    pps,
  );
  const matrix = Buffer.concat([0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000].map(u32));
  const avc1 = box(
    'avc1',
    Buffer.alloc(6),
    u16(1), // data reference index
    Buffer.alloc(16),
    u16(16),
    u16(16),
    u32(0x480000),
    u32(0x480000),
    u32(0),
    u16(1), // frame count
    Buffer.alloc(32), // compressor name
    u16(0x18),
    u16(0xffff),
    avcC,
  );
  const moov = (chunkOffset: number) =>
    box(
      'moov',
      fullBox(
        'mvhd',
        0,
        0,
        u32(0),
        u32(0),
        u32(1000),
        u32(1000),
        u32(0x10000),
        u16(0x100),
        Buffer.alloc(10),
        matrix,
        Buffer.alloc(24),
        u32(2),
      ),
      box(
        'trak',
        fullBox(
          'tkhd',
          0,
          3,
          u32(0),
          u32(0),
          u32(1),
          u32(0),
          u32(1000),
          Buffer.alloc(8),
          u16(0),
          u16(0),
          u16(0),
          u16(0),
          matrix,
          u32(16 << 16),
          u32(16 << 16),
        ),
        box(
          'mdia',
          fullBox('mdhd', 0, 0, u32(0), u32(0), u32(1000), u32(1000), u16(0x55c4), u16(0)),
          fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide'), Buffer.alloc(12), Buffer.from('VideoHandler\0')),
          box(
            'minf',
            fullBox('vmhd', 0, 1, Buffer.alloc(8)),
            box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
            box(
              'stbl',
              fullBox('stsd', 0, 0, u32(1), avc1),
              fullBox('stts', 0, 0, u32(1), u32(1), u32(1000)),
              fullBox('stss', 0, 0, u32(1), u32(1)),
              fullBox('stsc', 0, 0, u32(1), u32(1), u32(1), u32(1)),
              fullBox('stsz', 0, 0, u32(0), u32(1), u32(sample.length)),
              fullBox('stco', 0, 0, u32(1), u32(chunkOffset)),
            ),
          ),
        ),
      ),
    );
  const ftyp = box('ftyp', Buffer.from('isom'), u32(0x200), Buffer.from('isomiso2avc1mp41'));
  // The sample's offset depends on moov's size, which does not depend on the offset's value.
  const offset = ftyp.length + moov(0).length + 8;
  return Buffer.concat([ftyp, moov(offset), box('mdat', sample)]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, Buffer.from([version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff]), ...parts);
}
