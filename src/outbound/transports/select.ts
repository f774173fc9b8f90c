// Which transport sends (SPEC §5): the Cloud API when an access token is configured, else the
// sandbox, whose synthetic statuses go through the same status processing as webhook statuses.
import type { Config } from '../../config/schema.js';
import { recordStatus } from '../../inbox/statuses.js';
import type { Clock } from '../../lib/clock.js';
import type { IdSource } from '../../lib/ids.js';
import type { Db } from '../../store/db.js';
import { withTransaction } from '../../store/transactions.js';
import { statusObject } from '../../webhook/payload.js';
import { createCloudApiTransport } from './cloud-api.js';
import { createSandboxTransport } from './sandbox.js';
import type { Transport } from './transport.js';

export interface TransportDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  config: () => Config;
  /** False once the sender stopped: late sandbox statuses are dropped. */
  running: () => boolean;
  onStatusError: (err: unknown) => void;
}

export function selectTransport(config: Config, deps: TransportDeps): Transport {
  const ch = config.channels;
  if (ch.access_token) {
    return createCloudApiTransport({
      baseUrl: ch.api_base_url,
      version: ch.api_version,
      accessToken: ch.access_token,
      timeoutMs: ch.request_timeout,
    });
  }
  return createSandboxTransport({
    clock: deps.clock,
    ids: deps.ids,
    onStatus: async (event) => {
      if (!deps.running()) return;
      const status = statusObject.parse(event.status);
      await withTransaction(deps.db, (trx) =>
        recordStatus(trx, status, event.status, {
          ids: deps.ids,
          now: deps.clock.now(),
          inboxId: null,
          config: deps.config(),
        }),
      );
    },
    onStatusError: deps.onStatusError,
  });
}

/** True when a config change needs a new transport. */
export function transportChanged(next: Config, previous: Config): boolean {
  const a = next.channels;
  const b = previous.channels;
  return (
    a.access_token !== b.access_token || a.api_base_url !== b.api_base_url || a.api_version !== b.api_version
  );
}
