// The one error type that crosses layers, and the closed set of its codes. `code` is snake_case and
// maps to an HTTP status in http/errors.ts (an exhaustive switch: a code added here without a status
// there does not compile); `message` is a sentence safe to show a caller; `details` carries field paths.

/** Every error code the daemon answers with (SPEC §8). Add a code here and its status in http/errors.ts. */
export const ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'invalid_webhook',
  'validation_failed',
  'invalid_outbound_message',
  'config_invalid',
  'template_not_found',
  'messaging_limit_exceeded',
  'read_only_setting',
  'unauthorized',
  'invalid_signature',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'request_timeout',
  'conflict',
  'invalid_state',
  'version_conflict',
  'extension_not_active',
  'window_closed',
  'runtime_paused',
  'opted_out',
  'media_not_available',
  'template_not_approved',
  'messaging_limit_reached',
  'payload_too_large',
  'unsupported_media_type',
  'range_not_satisfiable',
  'unsupported_intent',
  'rate_limited',
  'internal_error',
  'upstream_failed',
  'not_ready',
  'overloaded',
  'database_unavailable',
  'store_not_writable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, details?: unknown, headers?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}
