// Holds the configuration layers and the effective Config while the daemon runs. Precedence:
// built-in defaults < config/default.json < CONFIG_PATH < stored management override < environment.
// A PUT to the management API stores a new override version (history kept in config_versions) and
// swaps the effective Config live; subscribers hear about every change.
// "What is stored through PUT overrides the files until the files change": each version records a
// hash of the file layers it was made over, and when the files differ on start the files win again.
// Several instances on one database take up each other's versions on their next tick (refresh()).
// Over 300 lines: loading, storing and taking up a version share one state and one queue.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { recordEvent } from '../events/record-event.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { auditRepo } from '../store/audit-repo.js';
import { configVersionsRepo } from '../store/config-versions-repo.js';
import type { Db } from '../store/db.js';
import { ConfigError, type ConfigLayer, deepMerge, ENV_LAYER_NAME, resolveConfig } from './load.js';
import { type Config, CURRENT_SCHEMA_VERSION } from './schema.js';
import { type MigrationTable, migrateConfigDocument } from './schema-migrations.js';

/** Largest stored override document (SPEC §9a: config documents are at most 1 MiB). */
export const MAX_CONFIG_DOCUMENT_BYTES = 1024 * 1024;
/** Config history keeps at least the last this many versions... */
export const CONFIG_HISTORY_VERSIONS = 200;
/** ...and everything younger than this (SPEC §9a: 200 versions or 90 days, whatever is more). */
export const CONFIG_HISTORY_MS = 90 * 24 * 3_600_000;

export type ConfigListener = (config: Config, previous: Config) => void;

export interface ConfigStoreOptions {
  db: Db;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  /** The layers loadConfig read, lowest first: the files, then the environment layer. */
  layers: ConfigLayer[];
  /** The schema_version steps (tests pass synthetic ones); CONFIG_MIGRATIONS by default. */
  migrations?: MigrationTable;
}

export interface ConfigChange {
  /** A partial document merged over the stored override (arrays replace, objects merge). */
  changes: Record<string, unknown>;
  /** Dotted keys the change touches, for the history and the audit log (never values). */
  changedKeys: string[];
  /** The version the caller read; a different current version is a 409. Omit for internal actions. */
  expectedVersion?: number;
  /** Token id, or "system". */
  actor: string;
  /** Why: "management_api", "recovery:pause_runtime", ... */
  reason: string;
  /** Also write an audit log entry in the same transaction (root actions). */
  audit: boolean;
  /** The audit entry's action (default "config.update"); recovery actions name themselves. */
  auditAction?: string;
  /** Extra fields for the audit entry's details. */
  auditDetails?: Record<string, unknown>;
}

export class ConfigStore {
  private config: Config;
  private overrideDoc: Record<string, unknown>;
  private currentVersion: number;
  private readonly listeners = new Set<ConfigListener>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly opts: ConfigStoreOptions,
    private readonly files: ConfigLayer[],
    private readonly env: ConfigLayer[],
    private readonly filesHash: string,
    state: { config: Config; override: Record<string, unknown>; version: number },
  ) {
    this.config = state.config;
    this.overrideDoc = state.override;
    this.currentVersion = state.version;
  }

  /** Reads the latest stored override (migrating an older schema_version forward) and resolves. */
  static async load(opts: ConfigStoreOptions): Promise<ConfigStore> {
    const log = opts.logger.child({ module: 'config' });
    const files = opts.layers.filter((l) => l.name !== ENV_LAYER_NAME);
    const env = opts.layers.filter((l) => l.name === ENV_LAYER_NAME);
    const filesHash = hashLayers(files);
    const base = resolveConfig([...files, ...env]).config;

    const latest = await configVersionsRepo.latest(opts.db);
    let version = latest?.version ?? 0;
    let override: Record<string, unknown> = {};
    let config = base;
    if (latest) {
      const stored = JSON.parse(latest.document) as Record<string, unknown>;
      if (latest.base_hash !== filesHash) {
        if (Object.keys(stored).length > 0) {
          // Recorded as a version of its own, so this is logged once and clients holding the old
          // version get a 409 instead of silently editing a set-aside override.
          version += 1;
          await configVersionsRepo.insert(opts.db, {
            version,
            schema_version: CURRENT_SCHEMA_VERSION,
            document: '{}',
            base_hash: filesHash,
            actor: 'system',
            reason: 'files_changed',
            changed_keys: '[]',
            created_at: opts.clock.now(),
          });
          log.warn(
            { event: 'config.override_superseded', superseded_version: latest.version, version },
            `the configuration files changed since management config version ${latest.version} was stored: the files win again and that override is set aside (kept in the history)`,
          );
        }
      } else {
        try {
          override = migrateConfigDocument(stored, latest.schema_version, opts.migrations);
          config = resolveConfig(layersWith(files, override, version, env)).config;
        } catch (err) {
          override = {};
          log.error(
            {
              event: 'config.override_unusable',
              version,
              problems: err instanceof ConfigError ? err.problems : [(err as Error).message],
            },
            `stored management config version ${version} cannot be used with this daemon; running on the files and environment only`,
          );
        }
      }
    }
    return new ConfigStore(opts, files, env, filesHash, { config, override, version });
  }

  /** The effective configuration now (frozen). */
  current(): Config {
    return this.config;
  }

  /** The latest stored version; 0 while nothing was ever stored. */
  version(): number {
    return this.currentVersion;
  }

  /** The stored override in effect (a copy). */
  override(): Record<string, unknown> {
    return structuredClone(this.overrideDoc);
  }

  /** Calls `fn` after every change of the effective config; returns the unsubscribe function. */
  subscribe(fn: ConfigListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Merges `changes` over the stored override, validates the whole result, stores it as a new
   * version and makes it effective. Throws version_conflict (409) or validation_failed (400, one
   * detail per problem with its path); nothing is stored then.
   */
  update(change: ConfigChange): Promise<{ version: number; config: Config }> {
    // One change at a time: each is validated against, and numbered after, the one before it.
    const run = this.queue.then(() => this.apply(change));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes up a version another instance stored (SPEC §10: within one tick on every instance; the
   * scheduler calls this first on each tick). True when the effective config changed.
   */
  refresh(): Promise<boolean> {
    const run = this.queue.then(() => this.reload());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reload(): Promise<boolean> {
    const stored = await configVersionsRepo.latestVersion(this.opts.db);
    if (stored <= this.currentVersion) return false;
    const latest = await configVersionsRepo.latest(this.opts.db);
    if (!latest) return false;
    let override: Record<string, unknown> = {};
    let config: Config;
    try {
      override = migrateConfigDocument(
        JSON.parse(latest.document) as Record<string, unknown>,
        latest.schema_version,
        this.opts.migrations,
      );
      config = resolveConfig(layersWith(this.files, override, latest.version, this.env)).config;
    } catch (err) {
      // Stored by a newer daemon, or over other files: this one keeps its config, and says so once.
      this.currentVersion = latest.version;
      this.opts.logger.error(
        {
          module: 'config',
          event: 'config.override_unusable',
          version: latest.version,
          problems: err instanceof ConfigError ? err.problems : [(err as Error).message],
        },
        `management config version ${latest.version}, stored by another instance, cannot be used by this one; it keeps its configuration`,
      );
      return false;
    }
    this.opts.logger.info(
      { module: 'config', event: 'config.reloaded', version: latest.version, actor: latest.actor },
      `configuration version ${latest.version}, stored by another instance, is now in effect`,
    );
    this.makeEffective(config, override, latest.version);
    return true;
  }

  private makeEffective(config: Config, override: Record<string, unknown>, version: number): void {
    const previous = this.config;
    this.config = config;
    this.overrideDoc = override;
    this.currentVersion = version;
    for (const fn of this.listeners) {
      try {
        fn(config, previous);
      } catch (err) {
        this.opts.logger.error(
          { module: 'config', event: 'config.listener_failed', err },
          'a configuration listener failed',
        );
      }
    }
  }

  private async apply(change: ConfigChange): Promise<{ version: number; config: Config }> {
    // A client may have read a version stored through another instance (behind one balancer).
    await this.reload();
    if (change.expectedVersion !== undefined && change.expectedVersion !== this.currentVersion) {
      throw versionConflict(change.expectedVersion, this.currentVersion);
    }
    const next = this.currentVersion + 1;
    const override = deepMerge(this.overrideDoc, change.changes);
    let config: Config;
    try {
      config = resolveConfig(layersWith(this.files, override, next, this.env)).config;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const details = err.problems.map((p) => ({ path: p.key, message: p.problem, source: p.source }));
      const first = details[0];
      throw new AppError(
        'validation_failed',
        `invalid configuration: ${first ? `${first.path} ${first.message}` : 'rejected'}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`,
        details,
      );
    }

    const document = JSON.stringify(override);
    const bytes = Buffer.byteLength(document);
    if (bytes > MAX_CONFIG_DOCUMENT_BYTES) {
      throw new AppError(
        'payload_too_large',
        `the stored configuration would be ${bytes} bytes, at most ${MAX_CONFIG_DOCUMENT_BYTES} (SPEC §9a)`,
      );
    }
    const now = this.opts.clock.now();
    await this.opts.db.transaction().execute(async (trx) => {
      // Another writer (a second process on the same database) may have stored a version meanwhile.
      const stored = await configVersionsRepo.latestVersion(trx);
      if (stored !== this.currentVersion) throw versionConflict(change.expectedVersion ?? next - 1, stored);
      await configVersionsRepo.insert(trx, {
        version: next,
        schema_version: CURRENT_SCHEMA_VERSION,
        document,
        base_hash: this.filesHash,
        actor: change.actor,
        reason: change.reason,
        changed_keys: JSON.stringify(change.changedKeys),
        created_at: now,
      });
      // History keeps the last CONFIG_HISTORY_VERSIONS versions or CONFIG_HISTORY_MS, whatever is more.
      await configVersionsRepo.pruneHistory(trx, {
        belowVersion: next - CONFIG_HISTORY_VERSIONS + 1,
        before: now - CONFIG_HISTORY_MS,
      });
      if (config.runtime.status !== this.config.runtime.status) {
        await recordEvent(
          trx,
          {
            type: 'runtime.status_changed',
            agent_uuid: null,
            data: {
              status: config.runtime.status,
              previous_status: this.config.runtime.status,
              reason: `${change.reason} (by ${change.actor})`,
            },
          },
          { ids: this.opts.ids, now },
        );
      }
      if (change.audit) {
        await auditRepo.record(trx, {
          id: this.opts.ids.next(),
          actor: change.actor,
          action: change.auditAction ?? 'config.update',
          details: JSON.stringify({
            version: next,
            reason: change.reason,
            changed_keys: change.changedKeys,
            ...change.auditDetails,
          }),
          at: now,
        });
      }
    });

    this.opts.logger.info(
      {
        module: 'config',
        event: 'config.updated',
        version: next,
        actor: change.actor,
        reason: change.reason,
        changed_keys: change.changedKeys,
      },
      `configuration version ${next} is now in effect`,
    );
    this.makeEffective(config, override, next);
    return { version: next, config };
  }
}

function layersWith(
  files: ConfigLayer[],
  override: Record<string, unknown>,
  version: number,
  env: ConfigLayer[],
): ConfigLayer[] {
  return [...files, { name: `management API (version ${version})`, document: override }, ...env];
}

function versionConflict(expected: number, current: number): AppError {
  return new AppError(
    'version_conflict',
    `the configuration is at version ${current}, not ${expected}; read it again and reapply your change`,
    { current_version: current },
  );
}

/** SHA-256 of the file layers' documents, independent of key order. */
export function hashLayers(layers: ConfigLayer[]): string {
  return createHash('sha256')
    .update(JSON.stringify(layers.map((l) => canonical(l.document))))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
