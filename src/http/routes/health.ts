// /healthz (the process serves), /readyz (database reachable and writable, migrations current), /metrics.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { registerStoreGauges } from '../../observability/store-gauges.js';
import { ping } from '../../store/db.js';
import { pendingMigrations } from '../../store/migrate.js';
import type { ApiRouter } from '../api-router.js';

const instanceId = z.string().describe('the daemon that answered (SPEC §10: several may share a database)');
const health = z.object({ status: z.literal('ok'), instance_id: instanceId });
const ready = z.object({
  status: z.enum(['ready', 'not_ready']),
  instance_id: instanceId,
  checks: z.object({
    database: z.enum(['ok', 'unreachable']),
    migrations: z.union([z.literal('current'), z.string()]),
    store: z
      .union([z.literal('writable'), z.string()])
      .describe('"writable", or why the database must not be written now (read-only file, write errors)'),
    shutting_down: z.boolean(),
  }),
});

export function mountHealthRoutes(router: ApiRouter, deps: AppDeps): void {
  registerStoreGauges(deps.metrics, { db: deps.db, clock: deps.clock });
  router.add(
    {
      method: 'get',
      path: '/healthz',
      tier: 'public',
      tag: 'health',
      summary: 'Liveness: 200 while the process serves requests.',
      responses: { 200: { description: 'serving', schema: health } },
    },
    (c) => c.json({ status: 'ok' as const, instance_id: deps.instanceId }),
  );

  router.add(
    {
      method: 'get',
      path: '/readyz',
      tier: 'public',
      tag: 'health',
      summary:
        'Readiness: 200 when the database answers and can be written and every migration is applied, else 503.',
      responses: {
        200: { description: 'ready', schema: ready },
        503: {
          description:
            'not ready (database unreachable or not writable, migrations pending, or shutting down)',
          schema: ready,
        },
      },
    },
    async (c) => {
      const dbOk = await ping(deps.database);
      let migrations = 'unknown';
      if (dbOk) {
        try {
          const pending = await pendingMigrations(deps.db);
          migrations = pending.length === 0 ? 'current' : `pending: ${pending.join(', ')}`;
        } catch {
          migrations = 'unknown';
        }
      }
      const unwritable = await deps.writability.probe();
      const ok = dbOk && migrations === 'current' && unwritable === null && !deps.state.shuttingDown;
      return c.json(
        {
          status: ok ? ('ready' as const) : ('not_ready' as const),
          instance_id: deps.instanceId,
          checks: {
            database: dbOk ? ('ok' as const) : ('unreachable' as const),
            migrations,
            store: unwritable === null ? 'writable' : `not writable: ${unwritable}`,
            shutting_down: deps.state.shuttingDown,
          },
        },
        ok ? 200 : 503,
      );
    },
  );

  router.add(
    {
      method: 'get',
      path: '/metrics',
      tier: 'standard',
      tag: 'health',
      summary: 'Prometheus metrics in the text exposition format.',
      responses: { 200: { description: 'text/plain; version=0.0.4' } },
    },
    async (c) => {
      const text = await deps.metrics.render();
      return c.body(text, 200, { 'Content-Type': deps.metrics.contentType });
    },
  );
}
