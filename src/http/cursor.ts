// Opaque pagination cursors: base64url JSON of the sort key of the last item on the page. A cursor
// that does not decode, or lacks a key, is a 400 naming the `cursor` parameter.
import { AppError } from '../lib/app-error.js';

export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, keys: string[]): Record<string, string | number> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const out: Record<string, string | number> = {};
    for (const k of keys) {
      const v = value[k];
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error('missing key');
      out[k] = v;
    }
    return out;
  } catch {
    throw new AppError('validation_failed', 'invalid query: cursor is not a cursor this API returned', [
      { path: 'cursor', message: 'is not a cursor this API returned' },
    ]);
  }
}
