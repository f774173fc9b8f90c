// Turns a parsed Config back into the document form an operator writes: durations as "4h" again.
// Used by check-config and the management API, so what they show can be pasted back into a file.
import type { z } from 'zod';
import { formatDuration } from '../lib/duration.js';
import { type Config, configSchema, duration } from './schema.js';

type Def = {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  in?: z.ZodType;
};

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const d = defOf(s);
    if (['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(d.type) && d.innerType)
      s = d.innerType;
    else if (d.type === 'pipe' && d.in && s !== duration) s = d.in;
    else break;
  }
  return s;
}

function convert(schema: z.ZodType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const s = unwrap(schema);
  if (s === duration) return typeof value === 'number' ? formatDuration(value) : value;
  const d = defOf(s);
  if (d.type === 'object' && d.shape && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = d.shape[k];
      out[k] = child ? convert(child, v) : v;
    }
    return out;
  }
  if (d.type === 'array' && d.element && Array.isArray(value))
    return value.map((v) => convert(d.element as z.ZodType, v));
  return value;
}

export function configToDocument(config: Config): Record<string, unknown> {
  return convert(configSchema, config) as Record<string, unknown>;
}
