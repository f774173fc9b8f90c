// Drafts of a conversation (SPEC §13): list them, approve one (its text or an edit goes out as a
// manual reply through the outbox), discard one. Standard tier: a human answering a customer.
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { approveDraft, discardDraft, draftSchema, listDrafts } from '../../conversations/drafts.js';
import { AppError } from '../../lib/app-error.js';
import type { ApiRouter } from '../api-router.js';

const BASE = '/api/extensions/native-whatsapp/runtime/conversations/:conversation_id/drafts';

const approveBody = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(4096, 'must be at most 4096 characters (a WhatsApp text message)')
    .optional()
    .describe('the text to send instead of the draft’s own (an edit); the draft’s text when absent'),
});

export function mountDraftRoutes(router: ApiRouter, deps: AppDeps): void {
  const draftDeps = {
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    config: deps.config,
    wakeSender: () => deps.outbound.sender.wake(),
  };

  router.add(
    {
      method: 'get',
      path: BASE,
      tier: 'standard',
      tag: 'runtime',
      summary: 'The drafts a responder wrote for a human in this conversation (route hybrid), oldest first.',
      responses: {
        200: { description: 'the drafts', schema: z.object({ items: z.array(draftSchema) }) },
        404: { description: 'no conversation with that id' },
      },
    },
    async (c, { params }) => c.json({ items: await listDrafts(deps.db, params.conversation_id ?? '') }),
  );

  router.add(
    {
      method: 'post',
      path: `${BASE}/:draft_id/approve`,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Approve a pending draft: its text, or the edited `text`, is queued as a manual reply.',
      description:
        'The reply goes through the outbox like any manual reply (paced, retried); the draft becomes ' +
        '`approved` with the text that went out and its outbox id, and other pending drafts of the ' +
        'conversation become `superseded` once it is sent. Free text needs the customer service window.',
      body: approveBody,
      responses: {
        202: { description: 'approved; the reply is queued', schema: z.object({ draft: draftSchema }) },
        400: { description: 'invalid body (empty or too long text, unknown field)' },
        404: { description: 'no such conversation, or no such draft in it' },
        409: {
          description:
            'the draft is not pending (invalid_state), the window is closed (window_closed), or the runtime is paused (runtime_paused)',
        },
      },
    },
    async (c, { params, body, token }) => {
      const draft = await approveDraft(draftDeps, {
        conversationId: params.conversation_id ?? '',
        draftId: params.draft_id ?? '',
        ...(body.text !== undefined ? { text: body.text } : {}),
        actor: actorOf(token),
      });
      return c.json({ draft }, 202);
    },
  );

  router.add(
    {
      method: 'post',
      path: `${BASE}/:draft_id/discard`,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Discard a pending draft: nothing is sent.',
      responses: {
        200: { description: 'discarded', schema: z.object({ draft: draftSchema }) },
        404: { description: 'no such conversation, or no such draft in it' },
        409: { description: 'the draft is not pending (invalid_state)' },
      },
    },
    async (c, { params, token }) => {
      const draft = await discardDraft(draftDeps, {
        conversationId: params.conversation_id ?? '',
        draftId: params.draft_id ?? '',
        actor: actorOf(token),
      });
      return c.json({ draft });
    },
  );
}

function actorOf(token: { id: string } | undefined): string {
  if (!token) throw new AppError('unauthorized', 'missing bearer token');
  return `token:${token.id}`;
}
