// What a management PUT actually changes. Callers often send back the document they read (with
// "[redacted]" secrets and settings they may not change): only values that differ from the current
// document count as changes, so a read-modify-write touches no key it did not mean to.
import { isDeepStrictEqual } from 'node:util';

export type Doc = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Doc {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The part of `patch` that differs from `current`: objects compared key by key, anything else whole. */
export function pruneUnchanged(patch: Doc, current: Doc): Doc {
  const out: Doc = {};
  for (const [key, value] of Object.entries(patch)) {
    const before = current[key];
    if (isPlainObject(value) && isPlainObject(before)) {
      const inner = pruneUnchanged(value, before);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (!isDeepStrictEqual(value, before)) {
      out[key] = value;
    }
  }
  return out;
}

/** Paths to every value that is not a non-empty plain object, in document order. */
export function leafPaths(doc: Doc, prefix: string[] = []): string[][] {
  return Object.entries(doc).flatMap(([key, value]) =>
    isPlainObject(value) && Object.keys(value).length > 0
      ? leafPaths(value, [...prefix, key])
      : [[...prefix, key]],
  );
}

export function valueAt(doc: Doc, path: string[]): unknown {
  let cur: unknown = doc;
  for (const k of path) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur;
}
