// What the HTTP app and the services share. Built once by daemon.ts (or the test harness).
import type { Logger } from 'pino';
import type { ChannelSecrets } from './auth/bootstrap.js';
import type { CampaignLimiters } from './campaigns/campaign-limiters.js';
import type { CampaignFeeder } from './campaigns/feeder.js';
import type { TemplateSync } from './campaigns/template-sync.js';
import type { ConfigStore } from './config/config-store.js';
import type { Config } from './config/schema.js';
import type { DeliveryWorker } from './events/delivery-worker.js';
import type { EventStreams } from './events/streams.js';
import type { InboxProcessor } from './inbox/processor.js';
import type { Clock } from './lib/clock.js';
import type { IdSource, RandomSource } from './lib/ids.js';
import type { MediaDownloader } from './media/downloader.js';
import type { Metrics } from './observability/metrics.js';
import type { Sender } from './outbound/sender.js';
import type { ResponderWorker } from './responders/worker.js';
import type { RuntimeHealth } from './runtime/health.js';
import type { Scheduler } from './scheduler/tick.js';
import type { Db, OpenedDatabase } from './store/db.js';
import type { StoreWritability } from './store/writability.js';
import type { InboxWriter } from './webhook/inbox-writer.js';

export interface AppDeps {
  /** The effective configuration right now (management PUT can replace it while running). */
  config: () => Config;
  /** The configuration layers and stored management versions behind `config`. */
  configStore: ConfigStore;
  /** This daemon among several on one database (runtime/instance-id.ts); in metrics and health. */
  instanceId: string;
  database: OpenedDatabase;
  db: Db;
  clock: Clock;
  ids: IdSource;
  random: RandomSource;
  logger: Logger;
  metrics: Metrics;
  secrets: ChannelSecrets;
  version: string;
  /** Set while the daemon is shutting down: readiness fails so load balancers stop sending. */
  state: { shuttingDown: boolean };
  /** Whether the database may be written now (probed; /readyz and ingress answer 503 while not). */
  writability: StoreWritability;
  /** Webhook deliveries: the group-commit writer (ingress) and the processor that applies them. */
  inbox: { writer: InboxWriter; processor: InboxProcessor };
  /** What makes the runtime `degraded` now (stopped channels, failing responder). */
  runtime: RuntimeHealth;
  /** Outbound: the sender (outbox → paced queues → transport), the follow-up scheduler, the responder worker. */
  outbound: { sender: Sender; scheduler: Scheduler; responder: ResponderWorker };
  /** Campaigns: the feeder (queued recipients → outbox) and each campaign's rate cap. */
  /** ... and the template sync (SPEC §14: template cache from the Graph API, messaging limit). */
  campaigns: { feeder: CampaignFeeder; limiters: CampaignLimiters; templates: TemplateSync };
  /** Media: the download queue, its storage and source (Graph or sandbox), SPEC §12. */
  media: MediaDownloader;
  /** Events out (SPEC §11): webhook deliveries and the live streams. */
  events: { delivery: DeliveryWorker; streams: EventStreams };
}
