// Refuses bodies over a size with 413 before reading them whole (Content-Length and streamed bytes).
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { AppError } from '../../lib/app-error.js';
import type { AppEnv } from '../env.js';

export function bodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError('payload_too_large', `the request body is larger than ${maxBytes} bytes`);
    },
  });
}
