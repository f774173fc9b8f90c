// The one error type that crosses layers. `code` is snake_case and maps to an HTTP status in
// http/errors.ts; `message` is a sentence safe to show a caller; `details` carries field paths.

export class AppError extends Error {
  readonly code: string;
  readonly details: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(code: string, message: string, details?: unknown, headers?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}
