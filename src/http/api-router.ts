// Declares an API route once: method, path, tier, zod schemas for body and query, and responses.
// The same declaration mounts the route (auth, parsing, validation) and feeds the OpenAPI document,
// so the documentation cannot drift from what is enforced.
import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Tier } from '../auth/tokens.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { checkJsonLimits, MAX_JSON_DEPTH } from '../lib/json-limits.js';
import { auditRepo } from '../store/audit-repo.js';
import type { Db } from '../store/db.js';
import type { TokenRow } from '../store/tokens-repo.js';
import type { AppEnv } from './env.js';
import { validationError } from './errors.js';
import { requireTier } from './middleware/auth.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

export interface RouteSpec<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
> {
  method: Method;
  /** Hono path syntax: /api/agents/:agent_id/extensions */
  path: string;
  tier: Tier | 'public';
  tag: string;
  summary: string;
  description?: string;
  body?: B;
  /** A multipart/form-data body the handler reads itself; documented, not parsed here. */
  formBody?: z.ZodType;
  query?: Q;
  responses: Record<number, ResponseSpec>;
  /**
   * 'service': the service writes this action's audit entry itself, in the action's transaction and
   * with what it changed; the router then records only refusals, so a success is audited once.
   */
  auditedBy?: 'service';
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<B, Q> {
  body: B;
  query: Q;
  params: Record<string, string>;
  token: TokenRow | undefined;
}

export type RouteHandler<B, Q> = (
  c: Context<AppEnv>,
  input: RouteInput<B, Q>,
) => Promise<Response> | Response;

// biome-ignore lint/suspicious/noExplicitAny: the registry holds routes of every body and query type.
export type AnyRouteSpec = RouteSpec<any, any>;

export class ApiRouter {
  readonly specs: AnyRouteSpec[] = [];

  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly deps: { db: Db; clock: Clock; ids: IdSource; logger: Logger },
  ) {}

  add<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<B, Q>,
    handler: RouteHandler<Out<B>, Out<Q>>,
  ): void {
    this.specs.push(spec);
    const middleware = spec.tier === 'public' ? [] : [requireTier(spec.tier, this.deps)];
    // SPEC §9a: every root action is audited with its actor, request id and outcome, refusals too.
    // Done here, once for every root route, so a new root route cannot forget it; a route whose
    // service writes a richer entry (auditedBy) gets only its refusals recorded here.
    const audited = spec.tier === 'root' && spec.method !== 'get';
    this.app.on(spec.method.toUpperCase(), [spec.path], ...middleware, async (c) => {
      if (!audited) return this.run(spec, handler, c);
      try {
        const res = await this.run(spec, handler, c);
        if (spec.auditedBy !== 'service' || res.status >= 400) await this.audit(c, spec, String(res.status));
        return res;
      } catch (err) {
        await this.audit(c, spec, err instanceof AppError ? err.code : 'internal_error');
        throw err;
      }
    });
  }

  private async run<B extends z.ZodType | undefined, Q extends z.ZodType | undefined>(
    spec: RouteSpec<B, Q>,
    handler: RouteHandler<Out<B>, Out<Q>>,
    c: Context<AppEnv>,
  ): Promise<Response> {
    {
      const body = spec.body ? await readJsonBody(c, spec.body) : undefined;
      const query = spec.query ? parseOrThrow(spec.query, c.req.query(), 'query') : undefined;
      return handler(c, {
        body: body as Out<B>,
        query: query as Out<Q>,
        params: c.req.param() as Record<string, string>,
        token: c.get('token'),
      });
    }
  }

  /** One audit entry for a root request: what, by whom (token id), its request id and its outcome. */
  private async audit(c: Context<AppEnv>, spec: AnyRouteSpec, outcome: string): Promise<void> {
    const token = c.get('token');
    try {
      await auditRepo.record(this.deps.db, {
        id: this.deps.ids.next(),
        actor: token?.id ?? 'unknown',
        action: `api.${spec.method} ${spec.path}`,
        details: JSON.stringify({
          request_id: c.get('requestId') ?? null,
          outcome,
          params: c.req.param(),
        }),
        at: this.deps.clock.now(),
      });
    } catch (err) {
      // The answer stands; an unwritable database is reported by its own probe.
      this.deps.logger.warn(
        { event: 'audit.write_failed', action: spec.path, err: (err as Error).message },
        'could not write the audit entry of a root action',
      );
    }
  }
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error.issues, where);
  return result.data;
}

/** Reads and validates a JSON body: 415 for other media types, 400 naming the position of bad JSON. */
export async function readJsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type');
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new AppError(
      'unsupported_media_type',
      `the body must be application/json, not ${type.split(';')[0]}`,
    );
  }
  const text = await c.req.text();
  if (text.trim() === '') throw new AppError('invalid_json', 'the request body is empty; send a JSON object');
  refuseOverLimits(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  return parseOrThrow(schema, value, 'body');
}

/**
 * SPEC §9a: nesting and array lengths are counted on the text before JSON.parse builds anything, so a
 * body that could only exceed them (millions of empty recipients, 10,000 levels) costs one scan.
 */
/** Longest array in any API body: campaign recipients (SPEC §9a: 100,000); every other list is shorter. */
export const MAX_BODY_ARRAY_LENGTH = 100_000;

function refuseOverLimits(text: string): void {
  const problem = checkJsonLimits(text, { maxDepth: MAX_JSON_DEPTH, maxArrayLength: MAX_BODY_ARRAY_LENGTH });
  if (!problem) return;
  const path = problem.path || '(body)';
  const message =
    problem.kind === 'depth'
      ? `is nested deeper than ${problem.limit} levels`
      : `must have at most ${problem.limit} items`;
  throw new AppError('validation_failed', `invalid body: ${path} ${message}`, [{ path, message }]);
}

/** Shared query pieces: `limit` 1–100 (default 50) and an opaque `cursor`. */
export const paginationQuery = {
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100'))
    .default(50)
    .describe('page size, 1–100'),
  cursor: z.string().min(1).max(200).optional().describe('next_cursor of the previous page'),
};
