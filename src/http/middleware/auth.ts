// Bearer-token auth: 401 when the token is missing or unknown, 403 when its tier is too low.
import type { MiddlewareHandler } from 'hono';
import { authenticate, type Tier, tierAllows } from '../../auth/tokens.js';
import { AppError } from '../../lib/app-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Db } from '../../store/db.js';
import { tokensRepo } from '../../store/tokens-repo.js';
import type { AppEnv } from '../env.js';

// last_used_at is advisory; writing it on every request would turn each read into a write.
const TOUCH_EVERY_MS = 60_000;

export function requireTier(need: Tier, deps: { db: Db; clock: Clock }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) {
      throw new AppError(
        'unauthorized',
        'missing bearer token: send "Authorization: Bearer <token>"',
        undefined,
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    const token = await authenticate(deps.db, m[1] as string);
    if (!token) {
      throw new AppError('unauthorized', 'the bearer token is unknown or revoked', undefined, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    if (!tierAllows(token.tier, need)) {
      throw new AppError('forbidden', `this action needs a ${need} token; yours is ${token.tier}`);
    }
    c.set('token', token);
    const now = deps.clock.now();
    if (token.last_used_at === null || now - token.last_used_at > TOUCH_EVERY_MS) {
      await tokensRepo.touch(deps.db, token.id, now);
    }
    await next();
  };
}
