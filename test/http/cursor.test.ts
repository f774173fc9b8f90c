// The one keyset-pagination helper every list route uses: pages follow each other without gaps or
// repeats, the last page has no cursor, and a cursor that is not ours is a 400 naming `cursor`.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cursorInt, encodeCursor, keysetPage } from '../../src/http/cursor.js';
import { AppError } from '../../src/lib/app-error.js';

const rows = Array.from({ length: 7 }, (_, i) => ({ n: i + 1 }));
const key = z.object({ n: cursorInt });
const fetchAfter = async (limit: number, after: { n: number } | undefined) =>
  rows.filter((r) => after === undefined || r.n > after.n).slice(0, limit);

async function page(cursor: string | undefined) {
  return keysetPage({ cursor, limit: 3 }, key, fetchAfter, (r) => ({ n: r.n }));
}

describe('keysetPage', () => {
  it('walks every row once, page after page, and the last page has no cursor', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const p = await page(cursor);
      seen.push(...p.items.map((r) => r.n));
      cursor = p.next_cursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBe(3);
  });

  it('a page that ends exactly at the last row has no cursor', async () => {
    const p = await keysetPage({ limit: 7 }, key, fetchAfter, (r) => ({ n: r.n }));
    expect(p.items).toHaveLength(7);
    expect(p.next_cursor).toBeNull();
  });

  it.each([
    ['not base64 JSON', '!!!'],
    ['JSON of another shape', encodeCursor({ other: 1 })],
    ['a string where the key is a number', encodeCursor({ n: '3' })],
    ['a fraction where the key is an integer', encodeCursor({ n: 2.5 })],
  ])('refuses a cursor that is %s, naming the cursor parameter', async (_, cursor) => {
    const err = await page(cursor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation_failed');
    expect((err as AppError).details).toEqual([
      { path: 'cursor', message: 'is not a cursor this API returned' },
    ]);
  });
});
