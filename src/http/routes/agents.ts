// Agents and shared agents (SPEC §8): create (root), list (paginated), and their attachments:
// list, activate a queued one and remove one (root, SPEC §13).
import type { Context } from 'hono';
import { z } from 'zod';
import { createAgent, listAgents } from '../../agents/agents.js';
import { activateAttachment, listAttachments, removeAttachment } from '../../agents/attachments.js';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../lib/app-error.js';
import type { AgentKind } from '../../store/tables.js';
import type { TokenRow } from '../../store/tokens-repo.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorInt, keysetPage } from '../cursor.js';
import type { AppEnv } from '../env.js';

export const agentSchema = z.object({
  id: z.number().int(),
  uuid: z.string(),
  name: z.string(),
  kind: z.enum(['private', 'shared']),
  phone_number_id: z.string().nullable(),
  created_at: z.string(),
});

export const attachmentSchema = z.object({
  id: z.number().int(),
  agent_id: z.number().int(),
  offer_id: z.number().int(),
  offer_name: z.string(),
  offer_slug: z.string(),
  status: z.string(),
  install_mode: z.enum(['trial', 'purchase', 'queued']),
  billing_model: z.string(),
  revenue_share_percent: z.number().nullable(),
  upfront_price: z.number().nullable(),
  notes: z.string().nullable(),
  created_at: z.string(),
  activated_at: z.string().nullable(),
});

const createBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  uuid: z.guid('must be a UUID such as 123e4567-e89b-12d3-a456-426614174000').optional(),
  phone_number_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the phone number id from Meta (letters, digits, "_" or "-")')
    .nullable()
    .optional(),
});

const KINDS: { kind: AgentKind; base: string; label: string }[] = [
  { kind: 'private', base: '/api/agents', label: 'private agent' },
  { kind: 'shared', base: '/api/shared-agents', label: 'shared agent' },
];

export function mountAgentRoutes(router: ApiRouter, deps: AppDeps): void {
  for (const { kind, base, label } of KINDS) {
    router.add(
      {
        method: 'get',
        path: base,
        tier: 'standard',
        tag: 'agents',
        summary: `List ${label}s in creation order.`,
        query: z.strictObject(paginationQuery),
        responses: {
          200: {
            description: 'a page of agents',
            schema: z.object({ items: z.array(agentSchema), next_cursor: z.string().nullable() }),
          },
        },
      },
      async (c, { query }) => {
        const page = await keysetPage(
          query,
          z.object({ id: cursorInt }),
          (limit, after) => listAgents(deps.db, { kind, limit, afterId: after?.id }),
          (a) => ({ id: a.id }),
        );
        return c.json(page);
      },
    );

    router.add(
      {
        method: 'post',
        path: base,
        tier: 'root',
        tag: 'agents',
        summary: `Create a ${label}.`,
        description:
          'The uuid is generated when absent. An agent with a phone_number_id owns that channel; a channel ' +
          'has at most one agent (409 otherwise), and uuids are unique across both kinds (409).',
        body: createBody,
        responses: {
          201: { description: 'created', schema: agentSchema },
          409: { description: 'the uuid or the phone_number_id is taken' },
        },
      },
      async (c, { body }) => c.json(await createAgent(deps, { kind, ...body }), 201),
    );

    router.add(
      {
        method: 'get',
        path: `${base}/:agent_id/extensions`,
        tier: 'standard',
        tag: 'agents',
        summary: `List the extension attachments of a ${label}.`,
        responses: {
          200: { description: 'the attachments, oldest first', schema: z.array(attachmentSchema) },
          404: { description: `no ${label} with this id` },
        },
      },
      async (c, { params }) => c.json(await listAttachments(deps.db, params.agent_id ?? '', kind)),
    );

    const change = (c: Context<AppEnv>, params: Record<string, string>, token: TokenRow | undefined) => {
      if (!token) throw new AppError('unauthorized', 'missing bearer token');
      return {
        agentId: params.agent_id ?? '',
        attachmentId: params.attachment_id ?? '',
        kind,
        actor: token.id,
        requestId: c.get('requestId'),
      };
    };

    router.add(
      {
        method: 'post',
        path: `${base}/:agent_id/extensions/:attachment_id/activate`,
        tier: 'root',
        auditedBy: 'service',
        tag: 'agents',
        summary: `Activate a queued attachment of a ${label}.`,
        description:
          'A `queued` attachment becomes `active` (activated_at set): automatic replies, follow-ups and ' +
          'campaign sends start on the agent’s channel. An active attachment is returned unchanged. Audited.',
        responses: {
          200: { description: 'the attachment, active', schema: attachmentSchema },
          403: { description: 'needs a root token' },
          404: { description: `no ${label} with this id, or no such attachment on it` },
          409: { description: 'the attachment was removed (install it again)' },
        },
      },
      async (c, { params, token }) => c.json(await activateAttachment(deps, change(c, params, token))),
    );

    router.add(
      {
        method: 'delete',
        path: `${base}/:agent_id/extensions/:attachment_id`,
        tier: 'root',
        auditedBy: 'service',
        tag: 'agents',
        summary: `Remove an attachment of a ${label}.`,
        description:
          'The attachment becomes `removed`: nothing is sent automatically on the agent’s channel any more ' +
          '(replies, follow-ups, campaign sends); execute answers 409 extension_not_active. Removing a ' +
          'removed attachment changes nothing. Installing again re-opens it. Audited.',
        responses: {
          200: { description: 'the attachment, removed', schema: attachmentSchema },
          403: { description: 'needs a root token' },
          404: { description: `no ${label} with this id, or no such attachment on it` },
        },
      },
      async (c, { params, token }) => c.json(await removeAttachment(deps, change(c, params, token))),
    );
  }
}
