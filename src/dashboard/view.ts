// What every dashboard page knows about the person looking at it: their token's tier and the CSRF
// token their forms carry.
import type { Tier } from '../auth/tokens.js';

export interface Viewer {
  tier: Tier;
  token_name: string;
  csrf: string;
}

export const BASE = '/dashboard';
