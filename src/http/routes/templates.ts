// GET .../runtime/templates (SPEC §14): the template cache (name, language, category, status,
// quality), paginated in (name, language) order, with the template sync's status, so an operator
// sees why a campaign cannot start or why the cache is stale.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { syncStatusSchema } from '../../campaigns/template-sync.js';
import { listTemplates, templateSchema } from '../../campaigns/templates.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { keysetPage } from '../cursor.js';

export const TEMPLATES_PATH = '/api/extensions/native-whatsapp/runtime/templates';

export function mountTemplateRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'get',
      path: TEMPLATES_PATH,
      tier: 'standard',
      tag: 'campaigns',
      summary: 'Message templates as the daemon knows them, with the template sync status.',
      description:
        'Fed by the template sync (channels.access_token and channels.waba_id: on start, every ' +
        'scheduler.template_sync_every, on the sync_templates recovery action) and by the ' +
        'message_template_status_update / message_template_quality_update webhooks. A failed sync keeps ' +
        'the last good cache; `sync.reason` says why it failed.',
      query: z.strictObject({ ...paginationQuery }),
      responses: {
        200: {
          description: 'a page of templates and the sync status',
          schema: z.object({
            items: z.array(templateSchema),
            next_cursor: z.string().nullable(),
            sync: syncStatusSchema,
          }),
        },
      },
    },
    async (c, { query }) => {
      const page = await keysetPage(
        query,
        z.object({ n: z.string().max(512), l: z.string().max(15) }),
        (limit, after) =>
          listTemplates(deps.db, limit, after ? { name: after.n, language: after.l } : undefined),
        (t) => ({ n: t.name, l: t.language }),
      );
      return c.json({ ...page, sync: await deps.campaigns.templates.status() });
    },
  );
}
