// `serve`: runs the daemon until SIGTERM/SIGINT, then shuts down gracefully and returns 0.
import { redactConfig, secretValues } from '../config/redact.js';
import { startDaemon } from '../daemon.js';
import { createLogger } from '../observability/logger.js';
import {
  type CliContext,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  loadConfigOrReport,
  parseFlags,
} from './context.js';
import { USAGE } from './usage.js';

/** Signals closer together than this are one stop request delivered twice. */
const SAME_SIGNAL_MS = 1000;

export async function serveCommand(ctx: CliContext): Promise<number> {
  const flags = parseFlags(ctx.args, {});
  if (flags.values.help) {
    ctx.stdout.write(USAGE.serve as string);
    return EXIT_OK;
  }
  const loaded = loadConfigOrReport(ctx);
  if (!loaded) return EXIT_USAGE;
  const { config } = loaded;

  const secrets = new Set<string>(secretValues(config));
  for (const v of [ctx.env.API_ROOT_TOKEN, ctx.env.API_STANDARD_TOKEN]) if (v) secrets.add(v);
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    isTty: ctx.stdout.isTTY === true,
    secrets: () => [...secrets],
  });
  logger.debug({ event: 'config.loaded', config: redactConfig(config) }, 'configuration loaded');

  // Signals are ours from before the start: one that arrives while the daemon is still starting
  // (migrations, listening, services) stops it once it is up, instead of killing it half-started.
  let resolveExit: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  let stopRequested = false;
  const stop = () => {
    daemon?.stop().then(
      () => resolveExit(EXIT_OK),
      (err) => {
        logger.error({ event: 'daemon.stop_failed', err }, 'shutdown failed');
        resolveExit(EXIT_FAILURE);
      },
    );
  };
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the terminal's group, and a wrapper such as npm forwards it
    // too: a repeat within a second is the same request, only a later one means "exit now".
    if (firstAt !== undefined && Date.now() - firstAt < SAME_SIGNAL_MS) return;
    if (firstAt !== undefined) {
      logger.warn({ event: 'daemon.forced_exit', signal }, 'second signal: exiting now');
      resolveExit(EXIT_FAILURE);
      return;
    }
    firstAt = Date.now();
    logger.info({ event: 'daemon.signal', signal }, `received ${signal}`);
    stopRequested = true;
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    daemon = await startDaemon({
      config,
      layers: loaded.sources,
      logger,
      bootstrap: { rootToken: ctx.env.API_ROOT_TOKEN, standardToken: ctx.env.API_STANDARD_TOKEN },
      onSecrets: (values) => {
        for (const v of values) secrets.add(v);
      },
      printOnce: (text) => ctx.stderr.write(text),
      singleInstance: true,
    });
  } catch (err) {
    logger.fatal({ event: 'daemon.start_failed', err }, (err as Error).message);
    ctx.stderr.write(`native-whatsapp: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  if (stopRequested) stop();
  return exit;
}
