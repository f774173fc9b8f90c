// Wires config, store, clock, ids, logger, services and the HTTP server; start() and stop().
// Shutdown order (SPEC §1): stop accepting, let in-flight requests finish, stop background services
// (cron ticks, queues) within the shutdown timeout, close the database.
// Over 300 lines on purpose: the composition root names every part once, in start and stop order.
import { type AddressInfo, createServer } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { AppDeps } from './app-deps.js';
import { bootstrapTokens, resolveChannelSecrets } from './auth/bootstrap.js';
import { CampaignLimiters } from './campaigns/campaign-limiters.js';
import { createCampaignFeeder } from './campaigns/feeder.js';
import { createTemplateSync } from './campaigns/template-sync.js';
import { ConfigStore } from './config/config-store.js';
import { configToDocument } from './config/display.js';
import type { ConfigLayer } from './config/load.js';
import { secretValues } from './config/redact.js';
import type { Config } from './config/schema.js';
import { createDeliveryWorker } from './events/delivery-worker.js';
import { createEventStreams } from './events/streams.js';
import { stampCatalog } from './extension/marketplace.js';
import { gatedServer } from './http/body-gate.js';
import { createInboxProcessor } from './inbox/processor.js';
import { type Clock, systemClock, toIso } from './lib/clock.js';
import { createIdSource, cryptoRandom, type IdSource, type RandomSource } from './lib/ids.js';
import type { Service } from './lib/service.js';
import { createMediaDownloader } from './media/downloader.js';
import { createMetrics } from './observability/metrics.js';
import { createSender } from './outbound/sender.js';
import { createResponderWorker } from './responders/worker.js';
import { createRuntimeHealth } from './runtime/health.js';
import { resolveInstanceId } from './runtime/instance-id.js';
import { createScheduler } from './scheduler/tick.js';
import { type OpenedDatabase, openStore } from './store/db.js';
import { acquireInstanceLock, type InstanceLock } from './store/instance-lock.js';
import { holdInstancePresence, type InstancePresence } from './store/instance-presence.js';
import { migrateToLatest } from './store/migrate.js';
import { createWalCheckpointer } from './store/wal-checkpointer.js';
import { createStoreWritability } from './store/writability.js';
import { VERSION } from './version.js';
import { createInboxWriter } from './webhook/inbox-writer.js';

export interface DaemonOptions {
  config: Config;
  /**
   * The layers `config` was resolved from (loadConfig's `sources`), so a stored management override can
   * sit between the files and the environment. Without them, `config` is taken as one file layer.
   */
  layers?: ConfigLayer[];
  logger: Logger;
  /** API tokens from the environment, stored hashed on start. */
  bootstrap?: { rootToken?: string; standardToken?: string };
  clock?: Clock;
  /** Run the scheduler's croner ticks (default true; tests drive ticks by hand with a fake clock). */
  cronTicks?: boolean;
  /** The clock outbound rate caps are measured on (default: the system clock; see outbound/sender.ts). */
  pacingClock?: Clock;
  random?: RandomSource;
  ids?: IdSource;
  /** Called with secret values that must be scrubbed from logs once they are known. */
  onSecrets?: (values: string[]) => void;
  /** Where to print a root token created on first start (stderr in the CLI). */
  printOnce?: (text: string) => void;
  /**
   * Take the database's instance lock (SPEC §10: one daemon per SQLite file); `serve` does. Tests that
   * start a second daemon in the same process on purpose (a restart without a stop) leave it off.
   */
  singleInstance?: boolean;
  /** Listen at all (false in tests that use app.request()). */
  listen?: boolean;
}

export interface Daemon {
  deps: AppDeps;
  app: ReturnType<typeof createApp>;
  /** The bound port (useful with port 0). */
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  // Ids draw from their own pooled source unless a test injected one (lib/ids.ts).
  const ids = options.ids ?? createIdSource(clock, options.random);
  const log = logger.child({ module: 'daemon' });

  // The port is held from the start: when it is taken, start fails before a database is created or a
  // root token is minted and printed for a daemon that never ran.
  const reserved =
    options.listen === false ? undefined : await reservePort(config.server.host, config.server.port);
  const database: OpenedDatabase = openStore(config.database, {
    onConnectionError: (err) =>
      log.warn({ event: 'store.connection_lost', err: err.message }, 'a pooled database connection failed'),
  });
  // Before anything is written (opening creates the directory and sets pragmas only): a second daemon
  // on the same file must not even migrate it. PostgreSQL is made for several instances (SPEC §10).
  let instanceLock: InstanceLock | undefined;
  try {
    instanceLock =
      options.singleInstance !== true || database.engine !== 'sqlite' || config.database.path === ':memory:'
        ? undefined
        : acquireInstanceLock(config.database.path, {
            pid: process.pid,
            started_at: toIso(clock.now()),
          });
  } catch (err) {
    await database.close();
    await reserved?.release();
    throw err;
  }
  let server: ServerType | undefined;
  let gate: ReturnType<typeof gatedServer> | undefined;
  let presence: InstancePresence | undefined;
  try {
    const migrated = await migrateToLatest(database.db);
    if (migrated.applied.length > 0) {
      log.info(
        { event: 'store.migrated', applied: migrated.applied },
        `applied ${migrated.applied.length} migration(s)`,
      );
    }
    // The effective config (files < stored management override < environment) changes live on PUT.
    const configStore = await ConfigStore.load({
      db: database.db,
      clock,
      ids,
      logger,
      layers: options.layers ?? [{ name: 'startup configuration', document: configToDocument(config) }],
    });
    options.onSecrets?.(secretValues(configStore.current()));
    await stampCatalog(database.db, VERSION, clock.now());
    const secrets = await resolveChannelSecrets(database.db, configStore.current(), { random, clock });
    configStore.subscribe((next) => {
      options.onSecrets?.(secretValues(next));
      // A PUT can set or replace channel secrets (never unset them), so this follows it synchronously.
      if (next.channels.app_secret) {
        secrets.appSecret = next.channels.app_secret;
        secrets.generated.appSecret = false;
      }
      if (next.channels.verify_token) {
        secrets.verifyToken = next.channels.verify_token;
        secrets.generated.verifyToken = false;
      }
    });
    options.onSecrets?.([secrets.appSecret, secrets.verifyToken]);
    if (secrets.generated.appSecret || secrets.generated.verifyToken) {
      log.warn(
        {
          event: 'auth.generated_channel_secrets',
          generated: Object.entries(secrets.generated)
            .filter(([, g]) => g)
            .map(([k]) => k),
        },
        'using generated webhook secrets stored in the database; read them with `native-whatsapp check-config --show-secrets` and enter them in the Meta app dashboard',
      );
    }
    const tokens = await bootstrapTokens(database.db, options.bootstrap ?? {}, {
      ids,
      random,
      clock,
      logger: log,
    });
    if (tokens.createdRootToken) {
      options.onSecrets?.([tokens.createdRootToken]);
      options.printOnce?.(
        `\nnative-whatsapp: no API token existed, so a root token was created. It is shown only this once:\n\n  ${tokens.createdRootToken}\n\nStore it now; create more with \`native-whatsapp token create --tier standard\`.\n\n`,
      );
    }

    const state = { shuttingDown: false };
    // Background workers take no new work while the database must not be written (store/writability.ts).
    const writability = createStoreWritability({
      db: database.db,
      file: database.engine === 'sqlite' ? config.database.path : null,
      now: () => clock.now(),
    });
    const paused = () => !writability.writable();
    // SQLite: one daemon per file (the instance lock above); several instances need a shared database.
    const instance = await resolveInstanceId(database.db, {
      configured: configStore.current().server.instance_id,
      shared: database.engine === 'postgres',
      ids,
      clock,
    });
    // PostgreSQL: this instance's presence lock, held for the process's life (store/instance-presence.ts);
    // other instances take over the rows it is sending only once it is gone.
    if (database.engine === 'postgres' && config.database.url) {
      presence = await holdInstancePresence(config.database.url, instance, {
        onLost: (err) =>
          log.error(
            { event: 'store.presence_lost', err: err.message },
            'the connection holding the presence lock of this instance failed: other instances may take over its sends',
          ),
      });
    }
    const metrics = createMetrics({ defaultMetrics: options.listen !== false, instanceId: instance });
    // Each ingress commit wakes the processor; the processor never runs inside a request.
    const inboxWriter = createInboxWriter(
      { db: database.db, logger },
      { onCommitted: () => inboxProcessor.wake() },
    );
    const inboxProcessor = createInboxProcessor({
      db: database.db,
      owner: instance,
      clock,
      ids,
      logger,
      metrics,
      config: () => deps.config(),
      paused,
      ingress: inboxWriter,
      onSliceCommitted: () => {
        responderWorker.wake();
        mediaDownloader.wake();
      },
    });
    const runtime = createRuntimeHealth();
    const serviceDeps = {
      db: database.db,
      owner: instance,
      clock,
      ids,
      logger,
      config: () => configStore.current(),
      paused,
    };
    const campaignLimiters = new CampaignLimiters();
    const sender = createSender({
      ...serviceDeps,
      pacingClock: options.pacingClock ?? systemClock,
      random,
      metrics,
      health: runtime,
      limitersFor: (m) => (m.kind === 'message' ? campaignLimiters.forSend(m.biz_opaque_callback_data) : []),
      rateSlotsFor: (m) => (m.kind === 'message' ? campaignLimiters.slotFor(m.biz_opaque_callback_data) : []),
      beforeDispatch: (m) =>
        m.kind === 'message'
          ? campaignLimiters.beforeDispatch(m.biz_opaque_callback_data)
          : Promise.resolve(),
    });
    const campaignFeeder = createCampaignFeeder({
      ...serviceDeps,
      limiters: campaignLimiters,
      onEnqueued: () => sender.wake(),
    });
    const templateSync = createTemplateSync(serviceDeps);
    const scheduler = createScheduler({
      ...serviceDeps,
      onEnqueued: () => sender.wake(),
      // Several instances on one database (SPEC §10): a config change made on another one.
      beforeTick: async () => {
        await configStore.refresh();
      },
      cron: options.cronTicks !== false,
      ingress: inboxWriter,
    });
    const responderWorker = createResponderWorker({
      ...serviceDeps,
      health: runtime,
      onEnqueued: () => sender.wake(),
      ingress: inboxWriter,
    });
    const mediaDownloader = createMediaDownloader({
      ...serviceDeps,
      random,
      metrics,
      owner: instance,
    });
    const eventDelivery = createDeliveryWorker({
      ...serviceDeps,
      wallClock: systemClock,
      random,
      metrics,
      health: runtime,
      owner: instance,
      ingress: inboxWriter,
    });
    const eventStreams = createEventStreams({
      db: database.db,
      clock,
      logger,
      config: () => configStore.current(),
    });
    let previousConfig = configStore.current();
    configStore.subscribe((next) => {
      const before = previousConfig;
      previousConfig = next;
      sender.configChanged(next, before);
      scheduler.configChanged(next, before);
      mediaDownloader.wake();
    });
    const deps: AppDeps = {
      config: () => configStore.current(),
      configStore,
      instanceId: instance,
      database,
      db: database.db,
      clock,
      ids,
      random,
      logger,
      metrics,
      secrets,
      version: VERSION,
      state,
      writability,
      inbox: { writer: inboxWriter, processor: inboxProcessor },
      runtime,
      outbound: { sender, scheduler, responder: responderWorker },
      campaigns: { feeder: campaignFeeder, limiters: campaignLimiters, templates: templateSync },
      media: mediaDownloader,
      events: { delivery: eventDelivery, streams: eventStreams },
    };
    const app = createApp(deps);
    // Stopped in reverse: ticks stop first, the sender drains or parks its queue, the responder
    // finishes its job, then the processor finishes its slice and the writer commits what is left.
    // The feeder starts before the sender so campaign rate caps are known when leftover campaign
    // rows are claimed; stopping after the sender only leaves its last rows queued for the next run.
    const services: Service[] = [
      // First started, last stopped: it checkpoints while every other service writes.
      ...(database.engine === 'sqlite' && database.path !== ':memory:'
        ? [createWalCheckpointer(database, logger)]
        : []),
      inboxWriter,
      inboxProcessor,
      responderWorker,
      campaignFeeder,
      sender,
      scheduler,
      templateSync,
      mediaDownloader,
      eventDelivery,
      eventStreams,
    ];

    let port = config.server.port;
    if (options.listen !== false) {
      gate = gatedServer(deps.config, logger, { metrics: deps.metrics, front: app.rawHandler });
      await reserved?.release();
      const listening = await listen(app.app.fetch, config.server.host, config.server.port, gate);
      server = listening.server;
      port = listening.port;
      log.info(
        {
          event: 'daemon.listening',
          host: config.server.host,
          port,
          database: database.label,
          version: VERSION,
          instance_id: instance,
        },
        `native-whatsapp ${VERSION} listening on http://${config.server.host}:${port}`,
      );
    }
    for (const s of services) await s.start();
    writability.onChange((writable, reason) => {
      sender.storeWritable(writable);
      if (!writable) {
        log.error(
          { event: 'store.not_writable', reason },
          `the database cannot be written (${reason}): webhooks get 503 and background work pauses until it can`,
        );
        return;
      }
      log.warn({ event: 'store.writable_again' }, 'the database is writable again: resuming');
      inboxProcessor.wake();
      responderWorker.wake();
      campaignFeeder.wake();
      sender.wake();
      mediaDownloader.wake();
      eventDelivery.wake();
    });
    await writability.probe();
    writability.start();

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        const deadline = Date.now() + config.server.shutdown_timeout;
        state.shuttingDown = true;
        writability.stop();
        log.info({ event: 'daemon.stopping' }, 'stopping: no new requests, finishing in-flight work');
        if (server) await closeServer(server, deadline);
        gate?.close();
        for (const s of [...services].reverse()) {
          try {
            await s.stop(deadline);
          } catch (err) {
            log.error(
              { event: 'daemon.service_stop_failed', service: s.name, err },
              `service ${s.name} failed to stop`,
            );
          }
        }
        await database.close();
        await presence?.release();
        instanceLock?.release();
        log.info({ event: 'daemon.stopped' }, 'stopped');
      })();
      return stopping;
    };
    return { deps, app, port, url: `http://${urlHost(config.server.host)}:${port}`, stop };
  } catch (err) {
    if (server) server.close();
    gate?.close();
    await reserved?.release();
    await database.close().catch(() => undefined);
    await presence?.release();
    instanceLock?.release();
    throw err;
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Binds host:port with a bare server until release(); rejects like listen() when it is taken. */
function reservePort(hostname: string, port: number): Promise<{ release(): Promise<void> } | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    // A connection to the reservation (a health check during a slow start on PostgreSQL) is reset at
    // once: held open, it kept holder.close() from finishing and the start never completed.
    const holder = createServer((socket) => socket.destroy());
    holder.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, hostname, port)));
    holder.listen({ host: hostname, port, exclusive: true }, () =>
      resolve({ release: () => new Promise<void>((done) => holder.close(() => done())) }),
    );
  });
}

function listenError(err: NodeJS.ErrnoException, hostname: string, port: number): Error {
  return err.code === 'EADDRINUSE'
    ? new Error(
        `cannot listen on ${hostname}:${port}: the address is already in use (another native-whatsapp? choose another port with PORT=8081 or server.port)`,
      )
    : new Error(`cannot listen on ${hostname}:${port}: ${err.message}`);
}

function listen(
  fetch: (req: Request) => Response | Promise<Response>,
  hostname: string,
  port: number,
  gate: Pick<ReturnType<typeof gatedServer>, 'createServer' | 'serverOptions'>,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const { createServer, serverOptions } = gate;
    const server = serve({ fetch, hostname, port, createServer, serverOptions }, (info: AddressInfo) =>
      resolve({ server, port: info.port }),
    );
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, hostname, port)));
  });
}

/** Stops accepting connections and waits for in-flight requests, up to the deadline. */
function closeServer(server: ServerType, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const s = server as ServerType & { closeIdleConnections?: () => void; closeAllConnections?: () => void };
    const timer = setTimeout(
      () => {
        s.closeAllConnections?.();
        resolve();
      },
      Math.max(0, deadline - Date.now()),
    );
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    s.closeIdleConnections?.();
  });
}
