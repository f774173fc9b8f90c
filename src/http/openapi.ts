// Builds the OpenAPI 3.1 document from the route declarations of api-router.ts (same zod schemas
// that validate requests) and renders a self-contained reference page (no external assets).
import { z } from 'zod';
import type { AnyRouteSpec } from './api-router.js';
import { surfaceOf } from './early-shed.js';
import { errorEnvelope } from './errors.js';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete out.$schema;
  return out;
}

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/**
 * Answers the body gate (http/body-gate.ts) gives before any route runs, for every method that can
 * carry a body; a route's own declaration of the same status wins.
 */
const BODY_GATE_RESPONSES: Record<string, unknown> = {
  408: {
    description:
      'request_timeout: the body did not arrive within server.body_timeout, or arrived slower than ' +
      'server.body_min_bytes_per_second (or was the slowest while every receiving slot was taken); ' +
      'the connection is closed',
    content: ERROR_CONTENT,
  },
};

/**
 * The answer the raw listener gives an API or webhook request when the daemon is at its limits, before
 * its body is read (http/early-shed.ts); a route's own declaration of 503 wins.
 */
const EARLY_SHED_RESPONSE = {
  description:
    'overloaded: the daemon is handling load.*_max_in_flight requests of this kind, or its event loop ' +
    'runs later than load.max_event_loop_delay_ms; the body was not read. Retry after the Retry-After ' +
    'seconds',
  content: ERROR_CONTENT,
};

export function buildOpenApi(specs: AnyRouteSpec[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    if (spec.query) {
      const q = toSchema(spec.query, 'input');
      const props = (q.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((q.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(props)) {
        parameters.push({
          name,
          in: 'query',
          required: required.has(name),
          schema,
          description: schema.description,
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      responses[status] = r.schema
        ? {
            description: r.description,
            content: { 'application/json': { schema: toSchema(r.schema, 'output') } },
          }
        : { description: r.description };
    }
    if (spec.method !== 'get') {
      for (const [status, r] of Object.entries(BODY_GATE_RESPONSES)) responses[status] ??= r;
    }
    if (surfaceOf(spec.path) !== undefined) responses[503] ??= EARLY_SHED_RESPONSE;
    const operation: Record<string, unknown> = {
      tags: [spec.tag],
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toSchema(spec.body, 'input') } },
            },
          }
        : {}),
      ...(spec.formBody
        ? {
            requestBody: {
              required: true,
              content: { 'multipart/form-data': { schema: toSchema(spec.formBody, 'input') } },
            },
          }
        : {}),
      responses,
      ...(spec.tier === 'public' ? { security: [] } : { 'x-required-tier': spec.tier }),
    };
    paths[path] = { ...(paths[path] ?? {}), [spec.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'native-whatsapp — WhatsApp Native Extension API',
      version: info.version,
      description:
        'Marketplace, management, runtime and insight APIs. Authenticate with `Authorization: Bearer <token>`; ' +
        'tokens have a tier, `standard` or `root` (see x-required-tier on each operation).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: toSchema(errorEnvelope, 'output'),
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A readable, dependency-free HTML reference of the same document. */
export function renderDocsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
  const sections = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const tier = (op['x-required-tier'] as string | undefined) ?? 'public';
        const json = JSON.stringify(
          { parameters: op.parameters, requestBody: op.requestBody, responses: op.responses },
          null,
          2,
        );
        return `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code> <small>${escapeHtml(tier)}</small></h3><p>${escapeHtml(String(op.summary ?? ''))}</p>${op.description ? `<p>${escapeHtml(String(op.description))}</p>` : ''}<details><summary>schemas</summary><pre>${escapeHtml(json)}</pre></details></section>`;
      }),
    )
    .join('\n');
  const info = doc.info as { title: string; version: string; description: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
h3{margin:1.5rem 0 .25rem;font-size:1rem}.m{display:inline-block;min-width:4rem;padding:0 .4rem;border-radius:4px;color:#fff;font-size:.8rem;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#ef6c00}.delete{background:#c62828}small{color:#777}
pre{background:#f6f6f6;padding:.75rem;overflow:auto;font-size:12px}section{border-bottom:1px solid #eee;padding-bottom:.5rem}</style></head>
<body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1><p>${escapeHtml(info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>${sections}</body></html>`;
}
