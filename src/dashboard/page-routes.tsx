// The dashboard's pages (GET): overview, conversations (+ the live list fragment), one conversation
// (+ its timeline fragment), campaigns, settings, events (root).
import type { Hono } from 'hono';
import { findAgentByUuid, listAgents } from '../agents/agents.js';
import type { AppDeps } from '../app-deps.js';
import { tokenNames } from '../auth/tokens.js';
import { exportRecipients } from '../campaigns/queries.js';
import { sendableTemplates } from '../campaigns/templates.js';
import { listAttempts, listSubscriptions, toAttemptView } from '../events/subscriptions.js';
import { listAuditEntries, toAuditEntry } from '../extension/audit-log.js';
import { configHistory, managementView } from '../extension/management-config.js';
import { mediaResponse, mediaServiceDeps } from '../http/routes/media.js';
import { createBacklogProbe } from '../inbox/backlog-probe.js';
import { campaignDetail, campaignList } from './campaigns-data.js';
import { conversationDetail, conversationList, listFilters } from './conversations-data.js';
import type { DashboardEnv } from './env.js';
import { liveFeatures } from './features.js';
import { requireRoot, takeFlash } from './guard.js';
import { overviewData, windowKey } from './overview-data.js';
import { CampaignPage, CampaignsPage } from './pages/campaigns.js';
import { ConversationPage, Timeline } from './pages/conversation.js';
import { ConversationRows, ConversationsPage } from './pages/conversations.js';
import { EventsPage } from './pages/events.js';
import { OverviewPage } from './pages/overview.js';
import { SettingsPage } from './pages/settings.js';
import { chosenTemplate, templateKey } from './pages/template-picker.js';
import { pageAt } from './paging.js';

export function mountDashboardPages(d: Hono<DashboardEnv>, deps: AppDeps): void {
  const backlog = createBacklogProbe({ db: deps.db, clock: deps.clock });
  const agents = async () => [
    ...(await listAgents(deps.db, { kind: 'private', limit: 100 })),
    ...(await listAgents(deps.db, { kind: 'shared', limit: 100 })),
  ];

  d.get('/', async (c) => {
    const all = await agents();
    const wanted = c.req.query('agent');
    const agent_uuid = all.some((a) => a.uuid === wanted) ? wanted : undefined;
    const data = await overviewData(deps, backlog, { window: windowKey(c.req.query('window')), agent_uuid });
    const m = data.insight.metrics;
    const anyConversation =
      m.conversations_active > 0 || (await conversationList(deps.db, {}, undefined, 1)).items.length > 0;
    return c.html(
      <OverviewPage
        viewer={c.get('viewer')}
        data={data}
        agents={all}
        agent_uuid={agent_uuid}
        conversations_total={anyConversation ? 1 : 0}
        {...takeFlash(c)}
      />,
    );
  });

  const listQuery = (url: string) => {
    const search = new URL(url).search;
    return search;
  };

  d.get('/conversations', async (c) => {
    const filters = listFilters(c.req.query());
    const at = pageAt(c.req.query());
    const config = deps.config();
    const list = await conversationList(deps.db, filters, at.cursor);
    return c.html(
      <ConversationsPage
        viewer={c.get('viewer')}
        filters={filters}
        query={listQuery(c.req.url)}
        items={list.items}
        at={at}
        next_cursor={list.next_cursor}
        agents={await agents()}
        classes={['general', ...config.conversation_classes.map((k) => k.name)]}
        live_stream={liveFeatures.stream ? `/dashboard/live` : undefined}
      />,
    );
  });

  d.get('/conversations/rows', async (c) => {
    const filters = listFilters(c.req.query());
    const list = await conversationList(deps.db, filters, pageAt(c.req.query()).cursor);
    return c.html(<ConversationRows items={list.items} filtered={Object.keys(filters).length > 0} />);
  });

  d.get('/conversations/:id', async (c) => {
    const detail = await conversationDetail(deps.db, c.req.param('id'));
    const templates = await sendableTemplates(deps.db);
    return c.html(
      <ConversationPage
        viewer={c.get('viewer')}
        detail={detail}
        now={deps.clock.now()}
        drafts_enabled={liveFeatures.drafts}
        templates={templates}
        chosen={chosenTemplate(templates, c.req.query('template'))}
        agent_name={
          detail.snapshot.agent_uuid
            ? (await findAgentByUuid(deps.db, detail.snapshot.agent_uuid))?.name
            : undefined
        }
        {...takeFlash(c)}
      />,
    );
  });

  d.get('/conversations/:id/timeline', async (c) => {
    return c.html(<Timeline detail={await conversationDetail(deps.db, c.req.param('id'))} />);
  });

  d.get('/campaigns', async (c) => {
    const at = pageAt(c.req.query());
    const page = await campaignList(deps.db, at.cursor);
    return c.html(
      <CampaignsPage
        viewer={c.get('viewer')}
        campaigns={page.items}
        at={at}
        next_cursor={page.next_cursor}
      />,
    );
  });

  d.get('/campaigns/:id', async (c) => {
    const detail = await campaignDetail(deps.db, deps.config(), c.req.param('id'), deps.clock.now());
    const templates = await sendableTemplates(deps.db);
    return c.html(
      <CampaignPage
        viewer={c.get('viewer')}
        detail={detail}
        templates={templates}
        // The campaign's own template is the likely choice for a retarget.
        chosen={chosenTemplate(templates, c.req.query('template') ?? templateKey(detail.campaign.template))}
        {...takeFlash(c)}
      />,
    );
  });

  d.get('/settings', async (c) => {
    const viewer = c.get('viewer');
    const versions = viewer.tier === 'root' ? await configHistory(deps.db, 50) : [];
    return c.html(
      <SettingsPage
        viewer={viewer}
        config={managementView(deps.configStore)}
        versions={versions}
        {...takeFlash(c)}
      />,
    );
  });

  d.get('/events', requireRoot(), async (c) => {
    const subscriptions = await Promise.all(
      (await listSubscriptions(deps)).map(async (subscription) => ({
        subscription,
        attempts: (await listAttempts(deps, subscription.id, 10)).map(toAttemptView),
      })),
    );
    return c.html(
      <EventsPage
        viewer={c.get('viewer')}
        audit={(await listAuditEntries(deps.db, 50)).map(toAuditEntry)}
        tokenNames={await tokenNames(deps.db)}
        subscriptions={subscriptions}
      />,
    );
  });

  // Every recipient as CSV, as GET .../campaigns/:id/recipients?format=csv streams it.
  d.get('/campaigns/:id/export', async (c) => {
    const id = c.req.param('id');
    return new Response(await exportRecipients(deps.db, id, undefined), {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="campaign-${id.replace(/[^A-Za-z0-9_-]/g, '')}-recipients.csv"`,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
    });
  });

  // The bytes of a customer's media, as GET .../runtime/media/:media_id serves them (same headers).
  d.get('/media/:media_id', (c) =>
    mediaResponse(mediaServiceDeps(deps), c.req.param('media_id'), c.req.header('range')),
  );
}
