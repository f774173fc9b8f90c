// Which daemon this process is (SPEC §10): the owner written on every lease it takes, and the
// `instance_id` of its metrics and health answers. An id configured per instance (INSTANCE_ID, e.g.
// the systemd template's `%i`) survives restarts, so a restarted instance resumes its own interrupted
// work at once instead of waiting for its leases to run out. Without one, a daemon alone on its SQLite
// file keeps the id it stored there the first time; on a shared database each start gets a fresh id,
// because a stored one would make every instance the same owner.
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { settingsRepo } from '../store/settings-repo.js';

export interface InstanceIdOptions {
  /** `server.instance_id` (INSTANCE_ID), when set. */
  configured: string | undefined;
  /** True when other daemons may work on the same database (PostgreSQL). */
  shared: boolean;
  ids: IdSource;
  clock: Clock;
}

export async function resolveInstanceId(db: Db, options: InstanceIdOptions): Promise<string> {
  if (options.configured) return options.configured;
  const fresh = `inst_${options.ids.next()}`;
  if (options.shared) return fresh;
  return settingsRepo.putIfAbsent(db, 'instance_id', fresh, options.clock.now());
}
