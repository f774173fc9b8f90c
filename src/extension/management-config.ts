// The management config API (SPEC §8): the effective config as a document (durations as "4h",
// credentials redacted) with its version, and the tier-gated, optimistic, validated-whole PUT.
import type { Tier } from '../auth/tokens.js';
import type { ConfigStore } from '../config/config-store.js';
import { configToDocument } from '../config/display.js';
import { REDACTED, redactConfig } from '../config/redact.js';
import { type Config, CURRENT_SCHEMA_VERSION, SECRET_PATHS } from '../config/schema.js';
import { migrateConfigDocument } from '../config/schema-migrations.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/clock.js';
import { configVersionsRepo } from '../store/config-versions-repo.js';
import type { Db } from '../store/db.js';
import { checkAccess } from './config-access.js';
import { type Doc, isPlainObject, leafPaths, pruneUnchanged, valueAt } from './config-diff.js';

export type ManagementConfigView = { version: number; schema_version: number } & Doc;

/** The document an operator would write, every credential shown as "[redacted]" (set) or null (unset). */
export function displayDocument(config: Config): Doc {
  const doc = configToDocument(config);
  for (const dotted of SECRET_PATHS) {
    const keys = dotted.split('.');
    const parent = valueAt(doc, keys.slice(0, -1));
    const last = keys[keys.length - 1] as string;
    if (isPlainObject(parent)) {
      const value = parent[last];
      parent[last] = value === undefined || value === null ? null : REDACTED;
    }
  }
  return doc;
}

export function managementView(store: ConfigStore): ManagementConfigView {
  const { schema_version, ...rest } = displayDocument(store.current());
  return { version: store.version(), schema_version: Number(schema_version), ...rest };
}

export interface ManagementUpdate {
  /** The request body: `version` plus a partial configuration document. */
  body: { version: number } & Doc;
  token: { id: string; tier: Tier };
}

/**
 * Applies a PUT: drop what did not change, refuse read-only keys (400) and keys above the token's
 * tier (403) before looking at versions, then 409 on a stale version, then validate the whole merged
 * config (400 with paths) and store it. A PUT that changes nothing stores nothing.
 */
export async function updateManagementConfig(
  store: ConfigStore,
  input: ManagementUpdate,
): Promise<ManagementConfigView> {
  const { version, schema_version, ...raw } = input.body;
  let patch: Doc = raw;
  if (schema_version !== undefined) {
    if (typeof schema_version !== 'number') {
      throw new AppError('validation_failed', 'invalid body: schema_version must be a number', [
        { path: 'schema_version', message: 'must be a number' },
      ]);
    }
    // A client written against an older schema may send its shape; it is migrated like stored ones.
    if (schema_version !== CURRENT_SCHEMA_VERSION) patch = migrateConfigDocument(raw, schema_version);
  }

  const changes = pruneUnchanged(patch, displayDocument(store.current()));
  const paths = leafPaths(changes);
  const entries = paths.map((path) => ({ path, value: valueAt(changes, path) }));

  const placeholders = entries
    .filter((e) => e.value === REDACTED && (SECRET_PATHS as readonly string[]).includes(e.path.join('.')))
    .map((e) => e.path.join('.'));
  if (placeholders.length > 0) {
    throw new AppError(
      'validation_failed',
      `invalid body: ${placeholders[0]} is the redacted placeholder; send the new secret, or leave the key out to keep the current one`,
      placeholders.map((path) => ({ path, message: 'is the redacted placeholder, not a secret' })),
    );
  }

  const access = checkAccess(entries, input.token.tier);
  if (access.readOnly.length > 0) {
    throw new AppError(
      'read_only_setting',
      `${access.readOnly.join(', ')} cannot be changed over the API: it takes effect only on restart; set it in the config file or the environment`,
      access.readOnly.map((path) => ({ path, message: 'is read-only over the API (needs a restart)' })),
    );
  }
  if (access.denied.length > 0) {
    throw new AppError(
      'forbidden',
      `changing ${access.denied.join(', ')} needs a root token; yours is ${input.token.tier}`,
      access.denied.map((path) => ({ path, message: 'needs a root token' })),
    );
  }

  // Behind one balancer the client may have read a version another instance stored (SPEC §10).
  await store.refresh();
  if (version !== store.version()) {
    throw new AppError(
      'version_conflict',
      `the configuration is at version ${store.version()}, not ${version}; read it again and reapply your change`,
      { current_version: store.version() },
    );
  }
  if (paths.length === 0) return managementView(store);

  await store.update({
    changes,
    changedKeys: paths.map((p) => p.join('.')),
    expectedVersion: version,
    actor: input.token.id,
    reason: 'management_api',
    // Every root action is audited (SPEC §8); only root tokens can change root keys.
    audit: input.token.tier === 'root',
  });
  return managementView(store);
}

export type ConfigVersion = Awaited<ReturnType<typeof configHistory>>[number];

/** Stored config versions newest first, before `beforeVersion` (exclusive), credentials redacted. */
export async function configHistory(db: Db, limit: number, beforeVersion?: number) {
  const rows = await configVersionsRepo.page(db, { limit, beforeVersion });
  return rows.map((r) => ({
    version: r.version,
    schema_version: r.schema_version,
    actor: r.actor,
    reason: r.reason,
    changed_keys: JSON.parse(r.changed_keys) as string[],
    document: redactConfig(JSON.parse(r.document) as Record<string, unknown>),
    created_at: toIso(r.created_at),
  }));
}
