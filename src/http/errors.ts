// The one table from error code to HTTP status, and the SPEC §8 envelope:
// {"error": {"code", "message", "details"?, "request_id"}}. Unknown errors become a bare 500.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { AppError } from '../lib/app-error.js';

const STATUS: Record<string, ContentfulStatusCode> = {
  bad_request: 400,
  invalid_json: 400,
  invalid_webhook: 400,
  validation_failed: 400,
  template_not_found: 400,
  messaging_limit_exceeded: 400,
  read_only_setting: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  invalid_state: 409,
  version_conflict: 409,
  extension_not_active: 409,
  window_closed: 409,
  runtime_paused: 409,
  opted_out: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_intent: 422,
  rate_limited: 429,
  internal_error: 500,
  not_ready: 503,
  overloaded: 503,
  database_unavailable: 503,
  store_not_writable: 503,
};

export function statusFor(code: string): ContentfulStatusCode {
  return STATUS[code] ?? 500;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; request_id?: string };
}

export function errorBody(code: string, message: string, details?: unknown, requestId?: string): ErrorBody {
  const error: ErrorBody['error'] = { code, message };
  if (details !== undefined) error.details = details;
  if (requestId) error.request_id = requestId;
  return { error };
}

export function renderError(c: Context, err: AppError): Response {
  const status = statusFor(err.code);
  for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
  return c.json(
    errorBody(err.code, err.message, err.details, c.get('requestId') as string | undefined),
    status,
  );
}

/** zod issues as `details`: one entry per problem with its dotted path. */
export function issueDetails(issues: z.core.$ZodIssue[], prefix = ''): { path: string; message: string }[] {
  return issues.flatMap((i) => {
    const base = [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.');
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'is not a known field' }));
    }
    return [{ path: base || '(body)', message: i.message }];
  });
}

export function validationError(issues: z.core.$ZodIssue[], where: 'body' | 'query' | 'params'): AppError {
  const details = issueDetails(issues);
  const first = details[0];
  const message = first
    ? `invalid ${where}: ${first.path} ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`
    : `invalid ${where}`;
  return new AppError('validation_failed', message, details);
}
