// Secrets in the configuration are shown as "[redacted]" (or null when unset) everywhere the
// document leaves the process: check-config, the management API, logs.
import { SECRET_PATHS } from './schema.js';

export const REDACTED = '[redacted]';

export function redactConfig<T>(doc: T): T {
  const copy = structuredClone(doc) as Record<string, unknown>;
  for (const dotted of SECRET_PATHS) {
    const keys = dotted.split('.');
    let cur: Record<string, unknown> | undefined = copy;
    for (const k of keys.slice(0, -1)) {
      const next: unknown = cur?.[k];
      cur = next && typeof next === 'object' ? (next as Record<string, unknown>) : undefined;
    }
    const last = keys[keys.length - 1] as string;
    if (cur && last in cur) cur[last] = cur[last] === undefined || cur[last] === null ? null : REDACTED;
  }
  return copy as T;
}

/** Every secret value set in a config, for scrubbing log output. */
export function secretValues(doc: unknown): string[] {
  const out: string[] = [];
  for (const dotted of SECRET_PATHS) {
    let cur: unknown = doc;
    for (const k of dotted.split('.'))
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
    if (typeof cur === 'string' && cur.length > 0) out.push(cur);
  }
  return out;
}
