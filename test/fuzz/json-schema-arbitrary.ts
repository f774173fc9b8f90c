// Request bodies from a route's OpenAPI (JSON Schema) request body: objects that follow the schema
// in places and break it in others (wrong types, missing required fields, unknown keys, huge
// strings, deep nesting), so a fuzzer reaches validation and, now and then, the handler itself.
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
};

/** A value nested `depth` levels deep, as arrays or objects. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

const nasty = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1.5,
    2 ** 53,
    -(2 ** 63),
    1e308,
    '',
    ' ',
    '0',
    'null',
    '\u0000',
    '\ud800',
    '__proto__',
    '../../etc/passwd',
    "'; DROP TABLE agents; --",
    '<script>alert(1)</script>',
    [],
    {},
    JSON.parse('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(1000, 50_000, 200_000).map((n) => 'x'.repeat(n)),
  fc
    .constantFrom(50, 500, 1500)
    .chain((d) => fc.constantFrom(deeplyNested(d, 'array'), deeplyNested(d, 'object'))),
);

/** Known good values by property name (ids that exist), so some bodies get past the lookups too. */
export type Hints = Record<string, unknown[]>;

/** A value that satisfies `schema` where the generator can tell how. */
export function validish(
  schema: JsonSchema | undefined,
  depth = 0,
  hints: Hints = {},
  strict = false,
): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length)
    return fc.oneof(...alternatives.map((s) => validish(s, depth + 1, hints, strict)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date-time') {
        return fc
          .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      }
      if (schema.pattern === '^[A-Za-z0-9_-]{1,64}$' || schema.pattern?.startsWith('^\\d'))
        return fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 15 });
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 60, 60) });
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? (schema.exclusiveMinimum ?? -1000) + 1, -1_000_000),
        max: Math.min(schema.maximum ?? 1000, 1_000_000),
      });
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validish(schema.items, depth + 1, hints, strict), { maxLength: 4 });
    case 'object':
      return objectFor(schema, depth, hints, strict);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/**
 * An object for `schema`: each property valid, broken or missing, plus unknown keys now and then.
 * `strict` keeps to the schema (hints first, required fields always there, no unknown keys), so
 * bodies with several fields still reach the handler often enough.
 */
function objectFor(
  schema: JsonSchema,
  depth: number,
  hints: Hints,
  strict: boolean,
): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {});
  const fields = props.map(([name, s]) => {
    const hinted = hints[name]?.length
      ? [
          {
            weight: 6,
            arbitrary: fc.constantFrom(...(hints[name] as unknown[])).map((v) => ({ set: true, v })),
          },
        ]
      : [];
    const valid = {
      weight: 6,
      arbitrary: validish(s, depth + 1, hints, strict).map((v) => ({ set: true, v })),
    };
    const missing = { weight: 1, arbitrary: fc.constant({ set: false, v: undefined as unknown }) };
    const choice = strict
      ? fc.oneof(...hinted, valid, ...(required.has(name) ? [] : [missing]))
      : fc.oneof(...hinted, valid, { weight: 2, arbitrary: nasty.map((v) => ({ set: true, v })) }, missing);
    return choice.map((f) => [name, f] as const);
  });
  const extra = strict
    ? fc.constant({})
    : fc.oneof(
        { weight: 4, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), nasty, { maxKeys: 3 }) },
      );
  return fc.tuple(fc.tuple(...fields), extra).map(([chosen, more]) => {
    const out: Record<string, unknown> = { ...more };
    for (const [name, f] of chosen) if (f.set) out[name] = f.v;
    return out;
  });
}

export interface FuzzBody {
  /** The bytes sent (a string; undefined = no body at all). */
  text: string | undefined;
  contentType: string | undefined;
}

/** Bodies for a route: schema-guided JSON, JSON of the wrong kind, malformed JSON, odd media types. */
export function bodyFor(schema: JsonSchema, hugeBytes: number, hints: Hints = {}): fc.Arbitrary<FuzzBody> {
  const json = 'application/json';
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant(json) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'application/merge-patch+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        '',
        undefined,
      ),
    },
  );
  const text = fc.oneof(
    { weight: 10, arbitrary: validish(schema, 0, hints).map((v) => JSON.stringify(v)) },
    { weight: 5, arbitrary: validish(schema, 0, hints, true).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: nasty.map((v) => JSON.stringify(v)) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        validish(schema, 0, hints).chain((v) => {
          const s = JSON.stringify(v);
          return fc.nat(Math.max(0, s.length - 1)).map((n) => s.slice(0, n));
        }),
        fc.string({ maxLength: 100 }),
        fc.constantFrom('{', '{"a":}', "{'a':1}", '{"a":1,}', 'NaN', '\uFEFF{}', '{"a":1}{"b":2}', ' '),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '['.repeat(100_000) + ']'.repeat(100_000),
        '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
        JSON.stringify({ name: 'x'.repeat(hugeBytes) }),
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.record({ text, contentType });
}
