// Management config routes (SPEC §8): read the effective config (standard), change it (standard or
// root depending on the keys), and read the history of stored versions (root).
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { configHistory, managementView, updateManagementConfig } from '../../extension/management-config.js';
import { AppError } from '../../lib/app-error.js';
import { PerKeyRate } from '../../lib/per-key-rate.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorInt, keysetPage } from '../cursor.js';

const CONFIG_PATH = '/api/extensions/native-whatsapp/management/config';

const configView = z
  .looseObject({
    version: z.number().int().describe('the latest stored version; 0 while nothing was stored'),
    schema_version: z.number().int(),
    runtime: z.object({
      status: z.enum(['active', 'paused']),
      automation_mode: z.enum(['assisted', 'autonomous', 'priority']),
      access_tier: z.enum(['standard', 'root']),
    }),
  })
  .describe('the effective configuration document; credentials are "[redacted]" when set, null when not');

/** Configuration changes one token may make per minute. */
export const CONFIG_PUTS_PER_MINUTE = 30;

const putBody = z
  .looseObject({
    version: z
      .number({ error: 'must be the version number the change is based on' })
      .int()
      .min(0)
      .describe('the version the change is based on (409 version_conflict when stale)'),
  })
  .describe(
    'version plus any part of the configuration document; values equal to the current ones are ignored',
  );

const versionEntry = z.object({
  version: z.number().int(),
  schema_version: z.number().int(),
  actor: z.string(),
  reason: z.string(),
  changed_keys: z.array(z.string()),
  document: z.record(z.string(), z.unknown()).describe('the stored override, credentials redacted'),
  created_at: z.string(),
});

export function mountManagementRoutes(router: ApiRouter, deps: AppDeps): void {
  // SPEC §9a: PUT is rate-limited per token (each stores a version of up to 1 MiB).
  const putRate = new PerKeyRate(CONFIG_PUTS_PER_MINUTE, 60_000);
  router.add(
    {
      method: 'get',
      path: CONFIG_PATH,
      tier: 'standard',
      tag: 'management',
      summary: 'The effective configuration with its version; credentials redacted.',
      responses: { 200: { description: 'the effective configuration', schema: configView } },
    },
    (c) => c.json(managementView(deps.configStore)),
  );

  router.add(
    {
      method: 'put',
      path: CONFIG_PATH,
      tier: 'standard',
      tag: 'management',
      summary: 'Change part of the configuration; validated whole, stored as a new version.',
      description:
        'Standard tokens may change conversation_classes, escalation, follow_up_rules, responder (not ' +
        'responder.openai.api_key or base_url), quiet_hours, opt_out, scorer, conversations and ' +
        'runtime.automation_mode other than autonomous. Root alone may change channels, runtime.status, ' +
        'runtime.access_tier, autonomous mode, outbound, scheduler, inbox, campaigns, templates, retention ' +
        'and analytics. server, database and log need a restart and are read-only here (400 ' +
        'read_only_setting). Values equal to the current ones are ignored, so a document read with GET ' +
        'can be sent back with one change.',
      body: putBody,
      responses: {
        200: { description: 'the new effective configuration and its version', schema: configView },
        400: { description: 'invalid values or unknown keys (details name each path), or a read-only key' },
        403: { description: 'a key needs a root token' },
        409: { description: 'version_conflict: the version is stale' },
        413: { description: 'the stored configuration would exceed 1 MiB' },
        429: { description: 'more than 30 changes in a minute from this token (Retry-After)' },
      },
    },
    async (c, { body, token }) => {
      if (!token) throw new AppError('unauthorized', 'missing bearer token');
      const wait = putRate.take(token.id, deps.clock.now());
      if (wait > 0) {
        const seconds = String(Math.ceil(wait / 1000));
        throw new AppError(
          'rate_limited',
          `at most ${CONFIG_PUTS_PER_MINUTE} configuration changes per minute per token; retry after ${seconds} s`,
          { reason: 'config_put_rate' },
          { 'Retry-After': seconds },
        );
      }
      return c.json(await updateManagementConfig(deps.configStore, { body, token }));
    },
  );

  router.add(
    {
      method: 'get',
      path: `${CONFIG_PATH}/versions`,
      tier: 'root',
      tag: 'management',
      summary: 'The history of stored configuration versions, newest first.',
      query: z.strictObject(paginationQuery),
      responses: {
        200: {
          description: 'a page of versions',
          schema: z.object({ items: z.array(versionEntry), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const page = await keysetPage(
        query,
        z.object({ version: cursorInt }),
        (limit, before) => configHistory(deps.db, limit, before?.version),
        (v) => ({ version: v.version }),
      );
      return c.json(page);
    },
  );
}
