// GET .../runtime/contacts (paginated, filter by wa_id / user_id, newest first) and
// GET .../runtime/contacts/:contact_id (identities, opt-out state, conversations, and the messages that
// belong to no conversation), SPEC §3a.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import {
  contactDetail,
  contactDetailSchema,
  contactSchema,
  listContacts,
} from '../../contacts/contact-view.js';
import { AppError } from '../../lib/app-error.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorId, keysetPage } from '../cursor.js';

const BASE = '/api/extensions/native-whatsapp/runtime/contacts';

const listQuery = z.strictObject({
  ...paginationQuery,
  wa_id: z
    .string()
    .regex(/^\d{5,20}$/, 'must be a phone number in digits (wa_id)')
    .optional()
    .describe('the customer, by any phone number they have had'),
  user_id: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('the customer, by any business-scoped user id (BSUID) they have had'),
});

const detailQuery = z.strictObject({
  message_limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .default(200)
    .describe('how many of the latest messages outside any conversation to include, 1–1000'),
});

export function mountContactRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'get',
      path: BASE,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Contacts (customers), newest first.',
      description:
        'A customer is one contact whatever phone numbers and BSUIDs they have had; the filters match any of ' +
        'them. Pages are keyset-based, so new contacts do not shift later pages.',
      query: listQuery,
      responses: {
        200: {
          description: 'a page of contacts',
          schema: z.object({ items: z.array(contactSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) => {
      const filter = { wa_id: query.wa_id, user_id: query.user_id };
      return c.json(
        await keysetPage(
          query,
          z.object({ id: cursorId }),
          (limit, after) => listContacts(deps.db, filter, limit, after?.id),
          (contact) => ({ id: contact.contact_id }),
        ),
      );
    },
  );

  router.add(
    {
      method: 'get',
      path: `${BASE}/:contact_id`,
      tier: 'standard',
      tag: 'runtime',
      summary: 'One contact: identities, opt-out state, conversations and messages outside any conversation.',
      query: detailQuery,
      responses: {
        200: { description: 'the contact', schema: contactDetailSchema },
        404: { description: 'no contact with that id' },
      },
    },
    async (c, { query, params }) => {
      const id = params.contact_id as string;
      const detail = await contactDetail(deps.db, id, query.message_limit);
      if (!detail) throw new AppError('not_found', `no contact with id ${JSON.stringify(id.slice(0, 100))}`);
      return c.json(detail);
    },
  );
}
