// What processing one delivery is given: ids, the time of this pass, config and a logger.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { IdSource } from '../lib/ids.js';

export interface ProcessContext {
  ids: IdSource;
  now: number;
  config: Config;
  logger: Logger;
}
