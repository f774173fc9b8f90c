// The dashboard's actions (POST, CSRF-checked by the guard): each calls the same service as the API
// route for it (execute intents, campaign commands, config changes, recovery) and redirects back to
// the page with a one-time notice or the service's error message.
import type { Hono } from 'hono';
import type { AppDeps } from '../app-deps.js';
import type { CampaignCommand } from '../campaigns/campaign.js';
import { AUDIENCES, retargetCampaign } from '../campaigns/retarget.js';
import { cancelCampaign, pauseCampaign, resumeCampaign, startCampaign } from '../campaigns/service.js';
import { templateReply } from '../campaigns/templates.js';
import { approveDraft, discardDraft } from '../conversations/drafts.js';
import { findConversation } from '../conversations/queries.js';
import { type ExecuteContext, executeIntent } from '../extension/execute.js';
import { updateManagementConfig } from '../extension/management-config.js';
import { runRecovery } from '../extension/recovery.js';
import { campaignDeps } from '../http/routes/campaigns.js';
import { AppError } from '../lib/app-error.js';
import type { DashboardContext, DashboardEnv } from './env.js';
import { flash, requireRoot } from './guard.js';
import { BASE } from './view.js';

type Form = Record<string, unknown>;

const field = (form: Form, name: string, max: number): string | undefined => {
  const v = form[name];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (t === '') return undefined;
  if (t.length > max) throw new AppError('validation_failed', `${name} is longer than ${max} characters`);
  return t;
};

/** Runs an action; its notice or error travels to the page it redirects to. */
async function act(
  c: DashboardContext,
  back: string,
  run: (form: Form) => Promise<string>,
): Promise<Response> {
  try {
    flash(c, 'notice', await run(await c.req.parseBody()));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    flash(c, 'error', err.message);
  }
  return c.redirect(back, 303);
}

export function mountDashboardActions(d: Hono<DashboardEnv>, deps: AppDeps): void {
  const execute = async (conversationId: string, intent: string, context: Partial<ExecuteContext>) => {
    const row = await findConversation(deps.db, conversationId);
    if (!row) throw new AppError('not_found', 'There is no such conversation.');
    if (!row.agent_uuid) {
      throw new AppError(
        'extension_not_active',
        'No agent owns this conversation’s number, so nothing can be sent or changed through the extension. Create an agent for it first.',
      );
    }
    return executeIntent(
      {
        db: deps.db,
        clock: deps.clock,
        ids: deps.ids,
        config: deps.config,
        wakeSender: () => deps.outbound.sender.wake(),
        wakeScheduler: () => {
          deps.outbound.scheduler.tick().catch(() => undefined);
        },
      },
      {
        agent_uuid: row.agent_uuid,
        intent,
        context: { platform: 'whatsapp', priority: 'normal', conversation_id: conversationId, ...context },
      },
    );
  };
  const back = (c: DashboardContext) =>
    `${BASE}/conversations/${encodeURIComponent(c.req.param('id') ?? '')}`;

  d.post('/conversations/:id/reply', (c) =>
    act(c, back(c), async (form) => {
      const id = c.req.param('id');
      const text = field(form, 'text', 4096);
      const name = field(form, 'template_name', 512);
      if (name) {
        const language = field(form, 'template_language', 15);
        if (!language) throw new AppError('validation_failed', 'Choose the template’s language.');
        const template = await templateReply(deps.db, name, language, form);
        await execute(id, 'reply_conversation', { template });
        return `Template “${name}” (${language}) queued.`;
      }
      if (!text) throw new AppError('validation_failed', 'Write a reply first.');
      await execute(id, 'reply_conversation', { text });
      return 'Reply queued; it shows in the timeline once sent.';
    }),
  );

  d.post('/conversations/:id/route', (c) =>
    act(c, back(c), async (form) => {
      const route = form.route;
      if (route !== 'human' && route !== 'ai' && route !== 'hybrid') {
        throw new AppError('validation_failed', 'route must be human, hybrid or ai');
      }
      await execute(c.req.param('id'), 'route_conversation', { route });
      return route === 'human'
        ? 'You took over: the AI will not answer here.'
        : `Handed back: route ${route}.`;
    }),
  );

  d.post('/conversations/:id/escalate', (c) =>
    act(c, back(c), async (form) => {
      await execute(c.req.param('id'), 'escalate_conversation', {
        reason: field(form, 'reason', 200) ?? 'escalated from the dashboard',
      });
      return 'Escalated.';
    }),
  );

  d.post('/conversations/:id/close', (c) =>
    act(c, back(c), async () => {
      await execute(c.req.param('id'), 'close_conversation', {});
      return 'Closed.';
    }),
  );

  const draftDeps = {
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    config: deps.config,
    wakeSender: () => deps.outbound.sender.wake(),
  };
  // A human's edit is sent as written (trimmed only at the ends, like every field here).
  d.post('/conversations/:id/drafts/:draft/approve', (c) =>
    act(c, back(c), async (form) => {
      const text = field(form, 'text', 4096);
      await approveDraft(draftDeps, {
        conversationId: c.req.param('id'),
        draftId: c.req.param('draft'),
        ...(text === undefined ? {} : { text }),
        actor: `token:${c.var.session.token.id}`,
      });
      return 'Draft approved: the reply is on its way.';
    }),
  );

  d.post('/conversations/:id/drafts/:draft/discard', (c) =>
    act(c, back(c), async () => {
      await discardDraft(draftDeps, {
        conversationId: c.req.param('id'),
        draftId: c.req.param('draft'),
        actor: `token:${c.var.session.token.id}`,
      });
      return 'Draft discarded.';
    }),
  );

  const commands: Record<CampaignCommand, typeof startCampaign> = {
    start: startCampaign,
    pause: pauseCampaign,
    resume: resumeCampaign,
    cancel: cancelCampaign,
  };
  for (const [name, run] of Object.entries(commands)) {
    d.post(`/campaigns/:id/${name}`, (c) =>
      act(c, `${BASE}/campaigns/${encodeURIComponent(c.req.param('id') ?? '')}`, async () => {
        const after = await run(campaignDeps(deps), c.req.param('id') ?? '');
        return `Campaign is ${after.state}.`;
      }),
    );
  }

  d.post('/campaigns/:id/retarget', async (c) => {
    const sourceId = c.req.param('id');
    let created: string | undefined;
    const res = await act(c, `${BASE}/campaigns/${encodeURIComponent(sourceId)}`, async (form) => {
      const audience = form.audience;
      if (!AUDIENCES.includes(audience as never)) {
        throw new AppError('validation_failed', `audience must be one of ${AUDIENCES.join(', ')}`);
      }
      const name = field(form, 'template_name', 512);
      const language = field(form, 'template_language', 15);
      if (!name || !language)
        throw new AppError('validation_failed', 'Choose the approved template to send.');
      const campaign = await retargetCampaign(campaignDeps(deps), sourceId, {
        audience: audience as (typeof AUDIENCES)[number],
        template: await templateReply(deps.db, name, language, form),
      });
      created = campaign.id;
      return `Draft campaign “${campaign.name}” created with ${campaign.recipients} recipients; start it when ready.`;
    });
    // On success the new draft is where the reader wants to be.
    return created ? c.redirect(`${BASE}/campaigns/${encodeURIComponent(created)}`, 303) : res;
  });

  d.post('/settings', requireRoot(), (c) =>
    act(c, `${BASE}/settings`, async (form) => {
      const text = field(form, 'patch', 1_000_000) ?? '';
      let patch: unknown;
      try {
        patch = JSON.parse(text);
      } catch (err) {
        throw new AppError('invalid_json', `The change is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new AppError('validation_failed', 'The change must be a JSON object of the keys to change.');
      }
      const version = Number(form.version);
      const { session } = c.var;
      const out = await updateManagementConfig(deps.configStore, {
        body: { ...(patch as Record<string, unknown>), version },
        token: { id: session.token.id, tier: session.token.tier },
      });
      return `Saved: the configuration is at version ${out.version}.`;
    }),
  );

  for (const action of ['pause', 'resume'] as const) {
    d.post(`/runtime/${action}`, requireRoot(), (c) =>
      act(c, BASE, async () => {
        await runRecovery(
          {
            db: deps.db,
            clock: deps.clock,
            ids: deps.ids,
            config: deps.config,
            configStore: deps.configStore,
            wakeInbox: () => deps.inbox.processor.wake(),
            wakeSender: () => deps.outbound.sender.wake(),
          },
          { action: action === 'pause' ? 'pause_runtime' : 'resume_runtime' },
          { token_id: c.var.session.token.id, request_id: c.get('requestId') ?? null },
        );
        return action === 'pause' ? 'Runtime paused: nothing is sent until you resume.' : 'Runtime resumed.';
      }),
    );
  }
}
