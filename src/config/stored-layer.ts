// The management layer as the daemon would use it on start, read from its database without
// changing anything: what `check-config` needs to show the effective configuration and say where
// each value comes from. The rules are ConfigStore.load's: the latest stored override applies while
// the files are the ones it was stored over (same hash); otherwise the files win again.

import { configVersionsRepo } from '../store/config-versions-repo.js';
import type { Db } from '../store/db.js';
import { hashLayers } from './config-store.js';
import { type ConfigLayer, ENV_LAYER_NAME, sourceOf } from './load.js';
import { migrateConfigDocument } from './schema-migrations.js';

export interface StoredLayer {
  /** The override layer, when one applies (named like the daemon names it). */
  layer?: ConfigLayer;
  /** A sentence on why none applies, when one is stored. */
  note?: string;
}

export async function readStoredLayer(db: Db, layers: ConfigLayer[]): Promise<StoredLayer> {
  const files = layers.filter((l) => l.name !== ENV_LAYER_NAME);
  const latest = await configVersionsRepo.latest(db);
  if (!latest) return {};
  const stored = JSON.parse(latest.document) as Record<string, unknown>;
  if (Object.keys(stored).length === 0) return {};
  if (latest.base_hash !== hashLayers(files)) {
    return {
      note: `management config version ${latest.version} is set aside: the files changed since it was stored (on start the files win again)`,
    };
  }
  return {
    layer: {
      name: `management API (version ${latest.version})`,
      document: migrateConfigDocument(stored, latest.schema_version),
    },
  };
}

/** Places the stored layer where it belongs: above the files, below the environment. */
export function withStoredLayer(layers: ConfigLayer[], stored: ConfigLayer): ConfigLayer[] {
  const files = layers.filter((l) => l.name !== ENV_LAYER_NAME);
  const env = layers.filter((l) => l.name === ENV_LAYER_NAME);
  return [...files, stored, ...env];
}

/**
 * Every value some layer sets, as dotted paths (lists count as one value: a layer replaces a list
 * whole), each with the layer it comes from; anything not listed is a built-in default.
 */
export function valueSources(layers: ConfigLayer[]): { path: string; source: string }[] {
  const paths = new Set<string>();
  const walk = (value: unknown, prefix: string[]) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, [...prefix, k]);
    } else if (prefix.length > 0) {
      paths.add(prefix.join('.'));
    }
  };
  for (const layer of layers) walk(layer.document, []);
  return [...paths].sort().map((p) => ({ path: p, source: sourceOf(p.split('.'), layers) }));
}
