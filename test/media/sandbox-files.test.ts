// The sandbox's placeholder media are well-formed files of their types (SPEC §12: a new user opens
// them): each format's own structure is checked here, the offsets, lengths and checksums a player
// or viewer relies on.
import { describe, expect, it } from 'vitest';
import {
  oggCrc,
  placeholderMp4,
  placeholderOggOpus,
  placeholderPdf,
  placeholderPng,
} from '../../src/media/sandbox-files.js';

interface Box {
  type: string;
  start: number;
  end: number;
  body: number;
}

/** The boxes of an ISO BMFF range; throws when a size runs past its parent. */
function boxes(buf: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let at = start; at < end; ) {
    const size = buf.readUInt32BE(at);
    if (size < 8 || at + size > end) throw new Error(`box at ${at} has a bad size ${size}`);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), start: at, end: at + size, body: at + 8 });
    at += size;
  }
  return out;
}

function child(buf: Buffer, parent: Box, type: string, skip = 0): Box {
  const found = boxes(buf, parent.body + skip, parent.end).find((b) => b.type === type);
  if (!found) throw new Error(`no ${type} in ${parent.type}`);
  return found;
}

describe('sandbox placeholder files', () => {
  it('the PDF has a header, objects at the offsets its xref names, and a startxref to the xref', () => {
    const pdf = placeholderPdf('sim-doc-(1)');
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.endsWith('%%EOF\n')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
    const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(entries).toHaveLength(5);
    entries.forEach((at, i) => {
      expect(text.slice(at, at + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
    });
    const stream = /<< \/Length (\d+) >>\nstream\n([\s\S]*?)endstream/.exec(text);
    expect(Number(stream?.[1])).toBe(Buffer.byteLength(stream?.[2] ?? ''));
    // The seed's parenthesis would end the PDF string early: it is replaced.
    expect(text).toContain('(native-whatsapp sandbox document sim-doc-_1_)');
  });

  it('the Ogg Opus file is three pages with valid checksums: OpusHead, OpusTags, one second of audio', () => {
    const ogg = placeholderOggOpus('sim-voice-1');
    const pages: { flags: number; granule: bigint; sequence: number; data: Buffer }[] = [];
    for (let at = 0; at < ogg.length; ) {
      expect(ogg.toString('latin1', at, at + 4)).toBe('OggS');
      const segments = ogg.readUInt8(at + 26);
      const lacing = [...ogg.subarray(at + 27, at + 27 + segments)];
      const length = 27 + segments + lacing.reduce((a, b) => a + b, 0);
      const page = Buffer.from(ogg.subarray(at, at + length));
      const crc = page.readUInt32LE(22);
      page.writeUInt32LE(0, 22);
      expect(oggCrc(page)).toBe(crc);
      pages.push({
        flags: page.readUInt8(5),
        granule: page.readBigUInt64LE(6),
        sequence: page.readUInt32LE(18),
        data: page.subarray(27 + segments),
      });
      at += length;
    }
    expect(pages.map((p) => p.sequence)).toEqual([0, 1, 2]);
    expect(pages[0]?.flags).toBe(0x02); // beginning of stream
    expect(pages[0]?.data.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(pages[0]?.data.readUInt32LE(12)).toBe(48_000);
    expect(pages[1]?.data.toString('latin1', 0, 8)).toBe('OpusTags');
    expect(pages[2]?.flags).toBe(0x04); // end of stream
    const preSkip = pages[0]?.data.readUInt16LE(10) ?? 0;
    expect(Number(pages[2]?.granule ?? 0n) - preSkip).toBe(48_000);
    // The known CRC of "OggS" alone, to pin the polynomial (not the reflected zip one).
    expect(oggCrc(Buffer.from('OggS'))).toBe(0x5fb0a94f);
  });

  it('the MP4 is ftyp, moov and mdat; its one sample is where stco says, as long as stsz says, an H.264 IDR', () => {
    const mp4 = placeholderMp4('sim-video-1');
    const top = boxes(mp4, 0, mp4.length);
    expect(top.map((b) => b.type)).toEqual(['ftyp', 'moov', 'mdat']);
    const moov = top[1] as Box;
    const stbl = child(mp4, child(mp4, child(mp4, child(mp4, moov, 'trak'), 'mdia'), 'minf'), 'stbl');
    const stco = child(mp4, stbl, 'stco');
    const stsz = child(mp4, stbl, 'stsz');
    const offset = mp4.readUInt32BE(stco.body + 8);
    const size = mp4.readUInt32BE(stsz.body + 12);
    const mdat = top[2] as Box;
    expect(offset).toBe(mdat.body);
    expect(offset + size).toBe(mdat.end);
    // Length-prefixed NAL unit: type 5 (IDR slice), its length the rest of the sample.
    expect(mp4.readUInt32BE(offset)).toBe(size - 4);
    expect(mp4.readUInt8(offset + 4) & 0x1f).toBe(5);
    // The decoder configuration carries one SPS (type 7) and one PPS (type 8).
    const stsd = child(mp4, stbl, 'stsd');
    const avc1 = child(mp4, stsd, 'avc1', 8);
    const avcC = child(mp4, avc1, 'avcC', 78);
    const spsLength = mp4.readUInt16BE(avcC.body + 6);
    expect(mp4.readUInt8(avcC.body + 8) & 0x1f).toBe(7);
    expect(mp4.readUInt8(avcC.body + 8 + spsLength + 3) & 0x1f).toBe(8);
  });

  it('different seeds give different files (content-addressed: each media its own file)', () => {
    for (const make of [placeholderPng, placeholderPdf, placeholderOggOpus, placeholderMp4]) {
      expect(make('a').equals(make('b'))).toBe(false);
    }
  });
});
