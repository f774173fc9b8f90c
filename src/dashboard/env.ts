// The dashboard's per-request variables: the API's plus who is signed in.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.js';
import type { TokenRow } from '../store/tokens-repo.js';
import type { Viewer } from './view.js';

export interface DashboardEnv {
  Variables: AppEnv['Variables'] & { viewer: Viewer; session: { secret: string; token: TokenRow } };
}

export type DashboardContext = Context<DashboardEnv>;
