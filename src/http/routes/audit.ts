// GET .../management/audit (root): the audit log of root actions, newest first, paginated.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { toIso } from '../../lib/clock.js';
import { auditRepo } from '../../store/audit-repo.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

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
      const after = query.cursor ? decodeCursor(query.cursor, ['at', 'id']) : undefined;
      const rows = await auditRepo.page(deps.db, {
        limit: query.limit + 1,
        before: after ? { at: Number(after.at), id: String(after.id) } : undefined,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return c.json({
        items: page.map((r) => ({
          id: r.id,
          actor: r.actor,
          action: r.action,
          details: JSON.parse(r.details),
          at: toIso(r.at),
        })),
        next_cursor: rows.length > query.limit && last ? encodeCursor({ at: last.at, id: last.id }) : null,
      });
    },
  );
}
