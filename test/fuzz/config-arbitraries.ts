// fast-check generators for configuration documents: the shipped example and the defaults with
// random subtrees replaced, removed or added (values on the edges of what the schema accepts), a
// few known top-level keys with odd values, and arbitrary objects.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { configToDocument } from '../../src/config/display.js';
import { resolveConfig } from '../../src/config/load.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE = JSON.parse(readFileSync(path.join(ROOT, 'config/example.json'), 'utf8')) as Record<
  string,
  unknown
>;
export const DEFAULTS = configToDocument(resolveConfig([]).config);

/** Values that sit on the edges of what the schema accepts. */
export const edgy = fc.oneof(
  fc.constantFrom(
    '1s',
    '0s',
    '999ms',
    '1000ms',
    '15m',
    '4h',
    '2d',
    '3w',
    '1.5h',
    '-1s',
    ' 4h ',
    '99999999999999999999d',
    '',
    '00:00',
    '23:59',
    '24:00',
    '7:30',
    'UTC',
    'Europe/Berlin',
    'Mars/Olympus_Mons',
    '(a+)+$',
    '(a|a)*b',
    '[',
    '\\bprice\\b',
    'sandbox',
    'https://graph.facebook.com',
    'ftp://example.com',
    'javascript:alert(1)',
    'v24.0',
    'autonomous',
    'root',
    'paused',
    'text',
    null,
    true,
    false,
    0,
    -1,
    0.5,
    1,
    65535,
    65536,
    2 ** 31,
    Number.MAX_SAFE_INTEGER,
    1e308,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constant('x'.repeat(5000)),
  fc.jsonValue({ maxDepth: 3 }),
);

export type Doc = Record<string, unknown>;
type Mutation = { at: number; kind: 'replace' | 'delete' | 'add'; value: unknown; key: string };

function containerPaths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      out.push([...at, i]);
      containerPaths(v, [...at, i], out);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([...at, k]);
      containerPaths(v, [...at, k], out);
    }
  }
  return out;
}

function mutate(doc: Doc, mutations: Mutation[]): Doc {
  const copy = structuredClone(doc);
  for (const m of mutations) {
    const all = containerPaths(copy);
    if (all.length === 0) break;
    const target = all[m.at % all.length] as (string | number)[];
    let parent: unknown = copy;
    for (const k of target.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[k];
    const container = parent as Record<string | number, unknown>;
    const key = target.at(-1) as string | number;
    if (m.kind === 'replace') container[key] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
    } else if (Array.isArray(container)) container.push(m.value);
    else container[m.key] = m.value;
  }
  return copy;
}

const mutations = fc.array(
  fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('replace', 'delete', 'add') as fc.Arbitrary<Mutation['kind']>,
    value: edgy,
    key: fc.oneof(
      fc.constantFrom('after', 'text', 'start', 'extra', '__proto__', 'constructor'),
      fc.string(),
    ),
  }),
  { minLength: 1, maxLength: 5 },
);

/** Configuration documents, mostly close to valid ones. */
export const configDocuments: fc.Arbitrary<Doc> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom(EXAMPLE, DEFAULTS), mutations).map(([d, m]) => mutate(d, m)),
  },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...Object.keys(DEFAULTS)), edgy, { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.object({ maxDepth: 3 }) as fc.Arbitrary<Doc> },
);
