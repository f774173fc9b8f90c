// GET .../management/audit (root): the audit log of root actions, newest first, paginated.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { listAuditEntries, toAuditEntry } from '../../extension/audit-log.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorId, cursorInt, keysetPage } from '../cursor.js';

const entry = z.object({
  id: z.string(),
  actor: z.string(),
  action: z.string(),
  details: z.unknown(),
  at: z.string(),
});

export function mountAuditRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'get',
      path: '/api/extensions/native-whatsapp/management/audit',
      tier: 'root',
      tag: 'management',
      summary:
        'The audit log of root actions (config changes, recovery actions, token changes), newest first.',
      query: z.strictObject(paginationQuery),
      responses: {
        200: {
          description: 'a page of entries',
          schema: z.object({ items: z.array(entry), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const page = await keysetPage(
        query,
        z.object({ at: cursorInt, id: cursorId }),
        (limit, before) => listAuditEntries(deps.db, limit, before),
        (r) => ({ at: r.at, id: r.id }),
      );
      return c.json({ items: page.items.map(toAuditEntry), next_cursor: page.next_cursor });
    },
  );
}
