// Marketplace routes (SPEC §8): the catalog (standard) and installation on an agent (root).
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { getExtension, installExtension, listExtensions } from '../../extension/marketplace.js';
import type { ApiRouter } from '../api-router.js';
import { attachmentSchema } from './agents.js';

export const marketplaceRecordSchema = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  version: z.string(),
  status: z.enum(['active', 'published', 'beta', 'deprecated']),
  description: z.string(),
  author: z.string().nullable(),
  extension_type: z.string(),
  platform: z.string(),
  capabilities: z.array(z.string()),
  required_permissions: z.array(z.string()),
  documentation_url: z.string().nullable(),
  pricing_model: z.enum(['free', 'one_time', 'subscription', 'revenue_share']).nullable(),
  price: z.number().nullable(),
  revenue_share_percent: z.number().nullable(),
  is_official: z.boolean(),
  install_count: z.number().int(),
  rating: z.number().nullable(),
  review_count: z.number().int(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
});

// camelCase as in the seed's installMarketplaceExtension call.
const installBody = z.strictObject({
  offerId: z.number().int().positive().describe('the marketplace record id'),
  agentUuid: z.guid('must be a UUID such as 123e4567-e89b-12d3-a456-426614174000'),
  installMode: z.enum(['trial', 'purchase', 'queued']),
  notes: z.string().max(2000).nullable().optional(),
});

export function mountMarketplaceRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'get',
      path: '/api/marketplace/extensions',
      tier: 'standard',
      tag: 'marketplace',
      summary: 'List the extension offers of the marketplace catalog.',
      responses: { 200: { description: 'every catalog record', schema: z.array(marketplaceRecordSchema) } },
    },
    async (c) => c.json(await listExtensions(deps.db, deps.version)),
  );

  router.add(
    {
      method: 'get',
      path: '/api/marketplace/extensions/:id',
      tier: 'standard',
      tag: 'marketplace',
      summary: 'Read one marketplace record by its numeric id.',
      description: 'An id that is not a positive integer names no record: 404.',
      responses: {
        200: { description: 'the record', schema: marketplaceRecordSchema },
        404: { description: 'no record with this id' },
      },
    },
    async (c, { params }) => c.json(await getExtension(deps.db, params.id ?? '', deps.version)),
  );

  router.add(
    {
      method: 'post',
      path: '/api/marketplace/extensions/install',
      tier: 'root',
      tag: 'marketplace',
      summary: 'Install an offer on a private or shared agent.',
      description:
        '`queued` creates a `queued` attachment; `trial` and `purchase` an `active` one with `activated_at`. ' +
        'Installing the same offer on the same agent again returns the existing attachment unchanged with 200, ' +
        'whatever installMode and notes the repeat carries.',
      body: installBody,
      responses: {
        200: { description: 'already installed: the existing attachment', schema: attachmentSchema },
        201: { description: 'installed', schema: attachmentSchema },
        404: { description: 'unknown offer or agent' },
      },
    },
    async (c, { body }) => {
      const result = await installExtension(deps, body);
      return c.json(result.attachment, result.created ? 201 : 200);
    },
  );
}
