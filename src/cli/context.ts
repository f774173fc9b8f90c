// What a CLI command gets from main.ts: arguments, environment and output streams. Commands return
// an exit code (0 ok, 1 runtime failure, 2 bad usage or bad config) instead of exiting themselves.
import { parseArgs } from 'node:util';
import { ConfigError, type LoadedConfig, loadConfig } from '../config/load.js';
import { PACKAGE_ROOT } from '../version.js';

export interface CliContext {
  args: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** The directory holding config/default.json (the package root). */
  baseDir?: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** parseArgs that throws UsageError (→ usage text, exit 2) on unknown flags or missing values. */
export function parseFlags<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Loads the configuration or prints every problem and returns undefined (caller exits 2). */
export function loadConfigOrReport(ctx: CliContext): LoadedConfig | undefined {
  try {
    return loadConfig({ env: ctx.env, baseDir: ctx.baseDir ?? PACKAGE_ROOT });
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.stderr.write(`native-whatsapp: ${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}
