// The one table from error code to HTTP status (codes: lib/app-error.ts), and the SPEC §8 envelope:
// {"error": {"code", "message", "details"?, "request_id"}}. Unknown errors become a bare 500.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { AppError, ERROR_CODES, type ErrorCode } from '../lib/app-error.js';

/**
 * The one table from error code to HTTP status. A switch without a default: a code in ERROR_CODES with
 * no case here fails to compile ("lacks ending return statement").
 */
export function statusFor(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case 'bad_request':
    case 'invalid_json':
    case 'invalid_webhook':
    case 'validation_failed':
    case 'invalid_outbound_message':
    case 'config_invalid':
    case 'template_not_found':
    case 'messaging_limit_exceeded':
    case 'read_only_setting':
      return 400;
    case 'unauthorized':
    case 'invalid_signature':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'method_not_allowed':
      return 405;
    case 'request_timeout':
      return 408;
    case 'conflict':
    case 'invalid_state':
    case 'version_conflict':
    case 'extension_not_active':
    case 'window_closed':
    case 'runtime_paused':
    case 'opted_out':
    case 'media_not_available':
    case 'template_not_approved':
    case 'messaging_limit_reached':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'range_not_satisfiable':
      return 416;
    case 'unsupported_intent':
      return 422;
    case 'rate_limited':
      return 429;
    case 'internal_error':
      return 500;
    case 'upstream_failed':
      return 502;
    case 'not_ready':
    case 'overloaded':
    case 'database_unavailable':
    case 'store_not_writable':
      return 503;
  }
}

/** The SPEC §8 envelope of every error answer; the OpenAPI document's `Error` is generated from it. */
export const errorEnvelope = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.unknown().optional(),
    request_id: z.string().optional(),
  }),
});

export type ErrorBody = z.infer<typeof errorEnvelope>;

export function errorBody(
  code: ErrorCode,
  message: string,
  details?: unknown,
  requestId?: string,
): ErrorBody {
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
