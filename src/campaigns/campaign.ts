// What a campaign is to the API and to its commands (SPEC §7): which command is allowed from which
// state, the response rate, and the one mapping from a stored row to the API shape.
import { z } from 'zod';
import { toIso } from '../lib/clock.js';
import type { CampaignRow, RecipientRow } from '../store/campaigns-repo.js';
import type { CampaignState } from '../store/tables.js';

export type CampaignCommand = 'start' | 'pause' | 'resume' | 'cancel';

/** The states each command may be given in; anything else is a 409. */
export const ALLOWED_FROM: Record<CampaignCommand, CampaignState[]> = {
  start: ['draft'],
  pause: ['scheduled', 'running'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'running', 'paused'],
};

/** Where start and resume lead: scheduled while start_at is still ahead. */
export function runState(startAt: number | null, now: number): 'scheduled' | 'running' {
  return startAt !== null && startAt > now ? 'scheduled' : 'running';
}

/**
 * The fields every new campaign row starts with, created or retargeted: a draft holding `recipients`
 * queued recipients, never started, nothing sent or counted yet. One place, so that a counter added
 * to campaigns starts at zero on both paths.
 */
export function draftCampaignFields(now: number, recipients: number) {
  return {
    state: 'draft' as const,
    created_at: now,
    updated_at: now,
    started_at: null,
    paused_at: null,
    completed_at: null,
    cancelled_at: null,
    recipients_total: recipients,
    count_queued: recipients,
    count_sent: 0,
    count_delivered: 0,
    count_read: 0,
    count_replied: 0,
    count_failed: 0,
    count_skipped_opted_out: 0,
    pause_reason: null,
    schedule_reason: null,
    recent_outcomes: '',
    sends_recorded: 0,
  } satisfies Partial<CampaignRow>;
}

export interface CampaignCounts {
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  skipped_opted_out: number;
}

export function countsOf(row: CampaignRow): CampaignCounts {
  return {
    queued: row.count_queued,
    sent: row.count_sent,
    delivered: row.count_delivered,
    read: row.count_read,
    replied: row.count_replied,
    failed: row.count_failed,
    skipped_opted_out: row.count_skipped_opted_out,
  };
}

/**
 * replied / recipients sent, null before any send. Counts are recipients per current state, so
 * "sent" is everyone who got the message: sent + delivered + read + replied.
 */
export function responseRate(c: CampaignCounts): number | null {
  const sent = c.sent + c.delivered + c.read + c.replied;
  return sent === 0 ? null : c.replied / sent;
}

const iso = z.string().nullable();

export const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled']),
  agent_uuid: z.string(),
  phone_number_id: z.string(),
  template: z.object({
    name: z.string(),
    language: z.string(),
    components: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
  rate_per_second: z.number(),
  start_at: iso,
  recipients: z.number().describe('distinct recipients'),
  counts: z
    .object({
      queued: z.number(),
      sent: z.number(),
      delivered: z.number(),
      read: z.number(),
      replied: z.number(),
      failed: z.number(),
      skipped_opted_out: z.number(),
    })
    .describe('recipients in each state now (they add up to `recipients`)'),
  response_rate: z
    .number()
    .nullable()
    .describe('replied / (sent + delivered + read + replied); null before any send'),
  created_at: z.string(),
  started_at: iso,
  paused_at: iso,
  completed_at: iso,
  cancelled_at: iso,
  pause_reason: z
    .string()
    .nullable()
    .describe(
      'why the campaign paused itself (failures, template status or quality); null when a person paused it',
    ),
  schedule_reason: z
    .string()
    .nullable()
    .describe('why a started campaign waits past its start_at (the messaging limit)'),
  retarget_of: z.string().nullable().describe('the campaign whose recipients this one was made from'),
});

export type CampaignView = z.infer<typeof campaignSchema>;

const isoOrNull = (ms: number | null) => (ms === null ? null : toIso(ms));

export function toCampaign(row: CampaignRow, agentUuid: string): CampaignView {
  const counts = countsOf(row);
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    agent_uuid: agentUuid,
    phone_number_id: row.phone_number_id,
    template: JSON.parse(row.template) as CampaignView['template'],
    rate_per_second: row.rate_per_second,
    start_at: isoOrNull(row.start_at),
    recipients: row.recipients_total,
    counts,
    response_rate: responseRate(counts),
    created_at: toIso(row.created_at),
    started_at: isoOrNull(row.started_at),
    paused_at: isoOrNull(row.paused_at),
    completed_at: isoOrNull(row.completed_at),
    cancelled_at: isoOrNull(row.cancelled_at),
    pause_reason: row.pause_reason ?? null,
    schedule_reason: row.schedule_reason ?? null,
    retarget_of: row.retarget_of ?? null,
  };
}

export const recipientSchema = z.object({
  index: z.number().describe('position in the list the campaign was created with'),
  wa_id: z.string(),
  state: z.enum(['queued', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped_opted_out']),
  parameters: z.unknown().nullable(),
  wamid: z.string().nullable(),
  error_code: z.number().nullable(),
  error_title: z.string().nullable(),
  sent_at: iso,
  delivered_at: iso,
  read_at: iso,
  replied_at: iso,
  failed_at: iso,
  conversation_id: z.string().nullable(),
});

export function toRecipient(row: RecipientRow): z.infer<typeof recipientSchema> {
  return {
    index: row.index,
    wa_id: row.wa_id,
    state: row.state,
    parameters: row.parameters === null ? null : JSON.parse(row.parameters),
    wamid: row.wamid,
    error_code: row.error_code,
    error_title: row.error_title,
    sent_at: isoOrNull(row.sent_at),
    delivered_at: isoOrNull(row.delivered_at ?? null),
    read_at: isoOrNull(row.read_at ?? null),
    replied_at: isoOrNull(row.replied_at),
    failed_at: isoOrNull(row.failed_at ?? null),
    conversation_id: row.conversation_id,
  };
}
