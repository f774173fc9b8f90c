// Campaign routes (SPEC §7) under .../runtime/campaigns: create, start / pause / resume / cancel,
// list, one campaign with counts and response rate, its recipients by state. Standard tier; a rate
// above the default needs root (decided in the service, which knows the default).
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { campaignSchema, recipientSchema, toRecipient } from '../../campaigns/campaign.js';
import { campaignDetailSchema, getCampaignDetail } from '../../campaigns/campaign-detail.js';
import { exportRecipients, listCampaigns, listRecipients } from '../../campaigns/queries.js';
import { retargetBody, retargetCampaign } from '../../campaigns/retarget.js';
import {
  type CampaignDeps,
  cancelCampaign,
  createCampaign,
  pauseCampaign,
  resumeCampaign,
  startCampaign,
} from '../../campaigns/service.js';
import { templateSchema } from '../../outbound/transports/transport.js';
import { type ApiRouter, paginationQuery } from '../api-router.js';
import { cursorId, cursorInt, keysetPage } from '../cursor.js';

export const CAMPAIGNS_PATH = '/api/extensions/native-whatsapp/runtime/campaigns';

const createBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  agent_uuid: z.string().min(1).max(100),
  template: templateSchema,
  // Each entry is checked in the service, so problems are reported per index without zod's cost on
  // 100k entries; duplicates are merged there too.
  recipients: z
    .array(z.object({ wa_id: z.unknown(), parameters: z.unknown().optional() }))
    .min(1, 'must list at least one recipient')
    .describe('[{wa_id: "digits, 8 to 15", parameters?: string[] | {name: string}}]'),
  rate_per_second: z.number().min(0.1).max(1000).optional(),
  start_at: z.iso.datetime({ offset: true }).optional().describe('ISO-8601; start sends no earlier'),
});

const listQuery = z.strictObject({
  ...paginationQuery,
  state: z.enum(['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled']).optional(),
  agent_uuid: z.string().min(1).max(100).optional(),
});

const recipientsQuery = z.strictObject({
  ...paginationQuery,
  state: z.enum(['queued', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped_opted_out']).optional(),
  format: z
    .enum(['json', 'csv'])
    .default('json')
    .describe('csv: every recipient (limit and cursor ignored), streamed as text/csv'),
});

const created = campaignSchema.extend({
  duplicates: z
    .array(z.object({ index: z.number(), wa_id: z.string(), first_index: z.number() }))
    .describe('later occurrences of a number already listed, merged into the first'),
});

export function campaignDeps(deps: AppDeps): CampaignDeps {
  return {
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    config: deps.config,
    onChanged: () => deps.campaigns.feeder.wake(),
  };
}

export function mountCampaignRoutes(router: ApiRouter, deps: AppDeps): void {
  const service = campaignDeps(deps);

  router.add(
    {
      method: 'post',
      path: CAMPAIGNS_PATH,
      tier: 'standard',
      tag: 'campaigns',
      summary: 'Create a campaign (state draft) sending one approved template to a list of recipients.',
      description:
        'Up to campaigns.max_recipients (100,000) recipients in one request. Invalid entries are refused ' +
        'with 400 naming each index; duplicates are merged and listed in `duplicates`. The template must ' +
        'be approved in the template cache (or declared in config on the sandbox transport), else ' +
        '400 template_not_found. Above campaigns.messaging_limit: 400 messaging_limit_exceeded.',
      body: createBody,
      responses: {
        201: { description: 'the campaign, in state draft', schema: created },
        400: { description: 'invalid recipients, unknown template, or over the messaging limit' },
        403: { description: 'rate_per_second above the default without a root token' },
        404: { description: 'no agent with that uuid' },
      },
    },
    async (c, { body, token }) => {
      const campaign = await createCampaign(
        service,
        {
          name: body.name,
          agent_uuid: body.agent_uuid,
          template: body.template,
          recipients: body.recipients,
          rate_per_second: body.rate_per_second,
          start_at: body.start_at ? Date.parse(body.start_at) : null,
        },
        token?.tier === 'root' ? 'root' : 'standard',
      );
      return c.json(campaign, 201);
    },
  );

  const commands = [
    ['start', startCampaign, 'Start a draft: running now, or scheduled until start_at.'],
    ['pause', pauseCampaign, 'Pause a running or scheduled campaign; sends not yet started are held.'],
    ['resume', resumeCampaign, 'Resume a paused campaign where it stopped.'],
    ['cancel', cancelCampaign, 'Cancel a campaign that has not completed; nothing more is sent.'],
  ] as const;
  for (const [name, run, summary] of commands) {
    router.add(
      {
        method: 'post',
        path: `${CAMPAIGNS_PATH}/:campaign_id/${name}`,
        tier: 'standard',
        tag: 'campaigns',
        summary,
        responses: {
          200: { description: 'the campaign after the command', schema: campaignSchema },
          404: { description: 'no campaign with that id' },
          409: { description: 'the campaign is in a state that does not allow this command' },
        },
      },
      async (c, { params }) => c.json(await run(service, params.campaign_id as string)),
    );
  }

  router.add(
    {
      method: 'get',
      path: CAMPAIGNS_PATH,
      tier: 'standard',
      tag: 'campaigns',
      summary: 'Campaigns, newest first.',
      query: listQuery,
      responses: {
        200: {
          description: 'a page of campaigns',
          schema: z.object({ items: z.array(campaignSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (c, { query }) =>
      c.json(
        await keysetPage(
          query,
          z.object({ id: cursorId }),
          (limit, after) =>
            listCampaigns(deps.db, { state: query.state, agent_uuid: query.agent_uuid }, limit, after?.id),
          (v) => ({ id: v.id }),
        ),
      ),
  );

  router.add(
    {
      method: 'get',
      path: `${CAMPAIGNS_PATH}/:campaign_id`,
      tier: 'standard',
      tag: 'campaigns',
      summary: 'One campaign with its counts, funnel, failures by code, cost and forecast finish.',
      responses: {
        200: { description: 'the campaign', schema: campaignDetailSchema },
        404: { description: 'no campaign with that id' },
      },
    },
    async (c, { params }) =>
      c.json(await getCampaignDetail(deps.db, deps.config(), params.campaign_id as string, deps.clock.now())),
  );

  router.add(
    {
      method: 'post',
      path: `${CAMPAIGNS_PATH}/:campaign_id/retarget`,
      tier: 'standard',
      tag: 'campaigns',
      summary: 'A new draft campaign of the recipients who did not reply, did not read, or failed.',
      description:
        'no_reply: sent, delivered or read but no reply; not_read: sent or delivered; failed: failed with ' +
        'a code that may succeed later (throttling, Meta-side errors, 131049) or none. Customers who opted ' +
        'out are left out. Only from a paused, completed or cancelled campaign (409 otherwise); the ' +
        'template must be approved in its language.',
      body: retargetBody,
      responses: {
        201: {
          description: 'the new campaign, in state draft, with retarget_of set',
          schema: campaignSchema,
        },
        400: { description: 'unknown audience, invalid body, unknown template, over the messaging limit' },
        404: { description: 'no campaign with that id' },
        409: { description: 'the campaign is still sending (pause it or wait), or the audience is empty' },
      },
    },
    async (c, { params, body }) => {
      const campaign = await retargetCampaign(service, params.campaign_id as string, {
        audience: body.audience,
        template: body.template,
        start_at: body.start_at ? Date.parse(body.start_at) : null,
        ...(body.name ? { name: body.name } : {}),
      });
      return c.json(campaign, 201);
    },
  );

  router.add(
    {
      method: 'get',
      path: `${CAMPAIGNS_PATH}/:campaign_id/recipients`,
      tier: 'standard',
      tag: 'campaigns',
      summary: "A campaign's recipients in list order, optionally in one state; all of them as CSV.",
      query: recipientsQuery,
      responses: {
        200: {
          description:
            'a page of recipients; with format=csv, text/csv with one header line and every recipient ' +
            '(state, times, failure), streamed',
          schema: z.object({ items: z.array(recipientSchema), next_cursor: z.string().nullable() }),
        },
        404: { description: 'no campaign with that id' },
      },
    },
    async (c, { params, query }) => {
      if (query.format === 'csv') {
        const id = params.campaign_id as string;
        return new Response(await exportRecipients(deps.db, id, query.state), {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="campaign-${id.replace(/[^A-Za-z0-9_-]/g, '')}-recipients.csv"`,
            'x-content-type-options': 'nosniff',
          },
        });
      }
      const page = await keysetPage(
        query,
        z.object({ i: cursorInt }),
        (limit, after) => listRecipients(deps.db, params.campaign_id as string, query.state, limit, after?.i),
        (r) => ({ i: r.index }),
      );
      return c.json({ items: page.items.map(toRecipient), next_cursor: page.next_cursor });
    },
  );
}
