// Management config routes (SPEC §8): read the effective config (standard), change it (standard or
// root depending on the keys), and read the history of stored versions (root).
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { configHistory, managementView, updateManagementConfig } from '../../extension/management-config.js';
import { AppError } from '../../lib/app-error.js';
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
      },
    },
    async (c, { body, token }) => {
      if (!token) throw new AppError('unauthorized', 'missing bearer token');
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
