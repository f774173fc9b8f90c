// The per-request variables every middleware and route can read.
import type { Logger } from 'pino';
import type { TokenRow } from '../store/tokens-repo.js';

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    token: TokenRow | undefined;
  };
}
