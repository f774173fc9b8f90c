// Keyset pagination, once for every list route: opaque cursors (base64url JSON of the sort key of the
// last item on a page) and keysetPage(), which decodes the cursor, asks for one row more than the
// page, and builds the next cursor from the page's last row. A cursor that does not decode, or whose
// key does not match the route's key schema, is a 400 naming the `cursor` parameter.
import { z } from 'zod';
import { AppError } from '../lib/app-error.js';

type SortKey = Record<string, string | number>;

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function badCursor(): AppError {
  return new AppError('validation_failed', 'invalid query: cursor is not a cursor this API returned', [
    { path: 'cursor', message: 'is not a cursor this API returned' },
  ]);
}

export function decodeCursor<K extends SortKey>(cursor: string, key: z.ZodType<K>): K {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const parsed = key.safeParse(value);
  if (!parsed.success) throw badCursor();
  return parsed.data;
}

/** Sort-key fields: an integer (times, ids, positions) or a non-empty string id. */
export const cursorInt = z.number().int();
export const cursorId = z.string().min(1).max(200);

export interface KeysetPage<Row> {
  items: Row[];
  next_cursor: string | null;
}

/**
 * One page in keyset order. `fetch(limit, after)` returns up to `limit` rows strictly after the key
 * (it is asked for one more than the page, to know whether another page follows); `keyOf` is the sort
 * key of a row, in the shape `key` parses.
 */
export async function keysetPage<Row, K extends SortKey>(
  query: { cursor?: string | undefined; limit: number },
  key: z.ZodType<K>,
  fetch: (limit: number, after: K | undefined) => Promise<Row[]>,
  keyOf: (row: Row) => K,
): Promise<KeysetPage<Row>> {
  const after = query.cursor ? decodeCursor(query.cursor, key) : undefined;
  const rows = await fetch(query.limit + 1, after);
  const items = rows.slice(0, query.limit);
  const last = items[items.length - 1];
  return {
    items,
    next_cursor: rows.length > query.limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
