// Campaign commands (SPEC §7): create (validated, de-duplicated, template checked, inserted in one
// transaction), start / pause / resume / cancel with 409 from a state that does not allow them.
// Sending itself is the feeder's job (campaigns/feeder.ts); pausing and cancelling take back the
// campaign's outbox rows that have not started, so nothing more goes out and nobody is sent twice.
// Over 300 lines: the five commands share the state checks and the outbox take-back; reads are in
// queries.ts and campaign-detail.ts.

import { activeAttachment } from '../agents/attachments.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { TemplateMessage } from '../outbound/transports/transport.js';
import { agentsRepo } from '../store/agents-repo.js';
import { type CampaignRow, campaignsRepo, type NewRecipient } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import { outboxRepo } from '../store/outbox-repo.js';
import { templatesRepo } from '../store/templates-repo.js';
import { withTransaction } from '../store/transactions.js';
import { templateVerdict } from './auto-pause.js';
import {
  ALLOWED_FROM,
  type CampaignCommand,
  type CampaignView,
  draftCampaignFields,
  runState,
  toCampaign,
} from './campaign.js';
import { moveCampaign } from './campaign-transitions.js';
import { DAY, effectiveLimit, limitUse } from './messaging-limit.js';
import { checkRecipients, type Duplicate, type RecipientInput } from './recipients.js';

export interface CampaignDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  config: () => Config;
  /** Called after a command that may give the feeder work (start, resume). */
  onChanged?: () => void;
}

export interface CreateCampaignInput {
  name: string;
  agent_uuid: string;
  template: TemplateMessage;
  recipients: RecipientInput[];
  rate_per_second?: number;
  /** ms since the epoch; null = as soon as started. */
  start_at?: number | null;
}

export interface CreatedCampaign extends CampaignView {
  /** Later occurrences of a number already listed: merged into the first, reported by index. */
  duplicates: Duplicate[];
}

/** Rows per INSERT statement: 1000 × 7 bound values stays far below SQLite's variable limit. */
const INSERT_CHUNK = 1000;

/** Approved in the template cache, or (sandbox transport only) declared in config. */
export async function templateIsApproved(db: Db, config: Config, t: TemplateMessage): Promise<boolean> {
  const cached = await templatesRepo.get(db, t.name, t.language);
  if (cached?.status.toUpperCase() === 'APPROVED') return true;
  const sandbox = !config.channels.access_token;
  return sandbox && config.templates.some((d) => d.name === t.name && d.language === t.language);
}

export async function createCampaign(
  deps: CampaignDeps,
  input: CreateCampaignInput,
  tier: 'standard' | 'root',
): Promise<CreatedCampaign> {
  const config = deps.config();
  const agent = await agentsRepo.findByUuid(deps.db, input.agent_uuid);
  if (!agent) throw new AppError('not_found', `no agent with uuid ${JSON.stringify(input.agent_uuid)}`);

  const rate = checkRate(input.rate_per_second, config, tier);

  const checked = checkRecipients(input.recipients, config.campaigns.max_recipients);
  if (!checked.ok) {
    const first = checked.problems[0];
    throw new AppError(
      'validation_failed',
      `invalid body: ${first?.path} ${first?.message}` +
        (checked.total_problems > 1 ? ` (and ${checked.total_problems - 1} more)` : ''),
      checked.problems,
    );
  }
  const { limit } = await effectiveLimit(
    deps.db,
    config,
    agent.phone_number_id ?? config.channels.phone_number_id,
  );
  if (limit !== null && checked.recipients.length > limit) {
    // Refused rather than split: a split campaign would still need a day per part, and the operator
    // should choose which recipients go first.
    throw new AppError(
      'messaging_limit_exceeded',
      `the campaign has ${checked.recipients.length} recipients but the business's messaging limit is ${limit} customers per 24 hours; split it into campaigns of at most ${limit} recipients started a day apart`,
      { recipients: checked.recipients.length, messaging_limit: limit },
    );
  }
  await requireApprovedTemplate(deps.db, config, input.template);

  const now = deps.clock.now();
  const id = deps.ids.next();
  const row: CampaignRow = {
    ...draftCampaignFields(now, checked.recipients.length),
    id,
    agent_id: agent.id,
    phone_number_id: agent.phone_number_id ?? config.channels.phone_number_id,
    name: input.name,
    template: JSON.stringify(input.template),
    rate_per_second: rate,
    start_at: input.start_at ?? null,
    retarget_of: null,
  };
  const recipients: NewRecipient[] = checked.recipients.map((r) => ({
    id: deps.ids.next(),
    campaign_id: id,
    index: r.index,
    wa_id: r.wa_id,
    parameters: r.parameters === null ? null : JSON.stringify(r.parameters),
    state: 'queued',
    updated_at: now,
  }));
  // One transaction, so a campaign is never half created. It holds the database for its duration
  // (about a second for 100k recipients, bench/campaigns); between chunks it lets the event loop
  // run, so requests that do not need the database are answered meanwhile.
  await withTransaction(deps.db, async (trx) => {
    await campaignsRepo.insert(trx, row);
    for (let i = 0; i < recipients.length; i += INSERT_CHUNK * 10) {
      await campaignsRepo.insertRecipients(trx, recipients.slice(i, i + INSERT_CHUNK * 10), INSERT_CHUNK);
      if (i + INSERT_CHUNK * 10 < recipients.length) await new Promise((r) => setImmediate(r));
    }
  });
  return { ...toCampaign(row, agent.uuid), duplicates: checked.duplicates };
}

/** 400 template_not_found unless the template is approved in its language. */
export async function requireApprovedTemplate(db: Db, config: Config, t: TemplateMessage): Promise<void> {
  if (await templateIsApproved(db, config, t)) return;
  throw new AppError(
    'template_not_found',
    `template ${JSON.stringify(t.name)} (${t.language}) is not an approved template in the template cache`,
    [{ path: 'template', message: 'is not approved (or not known) in this language for this business' }],
  );
}

export function checkRate(requested: number | undefined, config: Config, tier: 'standard' | 'root'): number {
  const channel = config.outbound.rate_per_second;
  const byDefault = config.campaigns.rate_per_second;
  if (requested === undefined) return Math.min(byDefault, channel);
  if (requested > channel) {
    throw new AppError(
      'validation_failed',
      `invalid body: rate_per_second ${requested} is above the channel's rate cap of ${channel} per second`,
      [{ path: 'rate_per_second', message: `must not exceed the channel's rate cap (${channel})` }],
    );
  }
  if (requested > byDefault && tier !== 'root') {
    throw new AppError(
      'forbidden',
      `a rate_per_second above the default of ${byDefault} needs a root token`,
      [{ path: 'rate_per_second', message: `above ${byDefault} needs the root tier` }],
    );
  }
  return requested;
}

export async function getCampaign(db: Db, id: string): Promise<CampaignView> {
  const row = await campaignsRepo.get(db, id);
  if (!row) throw notFound(id);
  const agent = await agentsRepo.findById(db, row.agent_id);
  return toCampaign(row, agent?.uuid ?? '');
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no campaign with id ${JSON.stringify(id.slice(0, 100))}`);
}

function wrongState(command: CampaignCommand, row: CampaignRow): AppError {
  return new AppError(
    'invalid_state',
    `cannot ${command} a campaign that is ${row.state} (${command} needs ${ALLOWED_FROM[command].join(' or ')})`,
    { state: row.state, allowed_from: ALLOWED_FROM[command] },
  );
}

async function command(
  deps: CampaignDeps,
  id: string,
  cmd: CampaignCommand,
  apply: (trx: Db, row: CampaignRow, now: number) => Promise<boolean>,
): Promise<CampaignView> {
  await withTransaction(deps.db, async (trx) => {
    const row = await campaignsRepo.get(trx, id);
    if (!row) throw notFound(id);
    if (!ALLOWED_FROM[cmd].includes(row.state)) throw wrongState(cmd, row);
    if (!(await apply(trx, row, deps.clock.now()))) {
      // The guarded update found the row changed since it was read (another instance completed or
      // paused it meanwhile, on PostgreSQL): the error names the state it is in now, not the one read.
      throw wrongState(cmd, (await campaignsRepo.get(trx, id)) ?? row);
    }
  });
  if (cmd === 'start' || cmd === 'resume') deps.onChanged?.();
  return getCampaign(deps.db, id);
}

/**
 * Starts a draft: running now, or scheduled until its start_at. Also the `publish_campaign` intent.
 * Only on a template approved in its language; within the messaging limit: a campaign that fits
 * once earlier sends leave the 24 h window is scheduled for then, one that cannot is refused (409).
 */
export function startCampaign(deps: CampaignDeps, id: string): Promise<CampaignView> {
  return command(deps, id, 'start', async (trx, row, now) => {
    if (!(await activeAttachment(trx, row.agent_id))) {
      throw new AppError(
        'extension_not_active',
        "the campaign's agent has no active native-whatsapp attachment; install or activate it first",
      );
    }
    const config = deps.config();
    const template = JSON.parse(row.template) as TemplateMessage;
    await requireApprovedTemplate(trx, config, template);
    const blocked = templateVerdict(template, await templatesRepo.get(trx, template.name, template.language));
    if (blocked) throw new AppError('template_not_approved', `cannot start: ${blocked}`);
    const startAt = await startWithinLimit(trx, config, row, now);
    return moveCampaign(
      trx,
      row,
      ['draft'],
      runState(startAt.at, now),
      { started_at: now, start_at: startAt.at, schedule_reason: startAt.reason, updated_at: now },
      { ids: deps.ids, now },
    );
  });
}

/** When a campaign may start under the messaging limit, and why it waits (null: no wait). */
async function startWithinLimit(
  trx: Db,
  config: Config,
  row: CampaignRow,
  now: number,
): Promise<{ at: number | null; reason: string | null }> {
  const needed = row.count_queued;
  const use = await limitUse(trx, config, row.phone_number_id, row.id, now);
  if (use.limit === null || use.left === null || needed <= use.left)
    return { at: row.start_at, reason: null };
  const numbers = {
    recipients: needed,
    messaging_limit: use.limit,
    used_24h: use.used_24h,
    queued_in_other_campaigns: use.committed,
    left: use.left,
  };
  const base =
    `the campaign has ${needed} recipients but the messaging limit of ${use.limit} customers per 24 hours ` +
    `has ${use.left} left (${use.used_24h} customers sent to in the last 24 hours, ` +
    `${use.committed} queued in other running or scheduled campaigns)`;
  if (needed > use.limit) {
    throw new AppError(
      'messaging_limit_reached',
      `${base}; split it into campaigns of at most ${use.limit} recipients`,
      numbers,
    );
  }
  // Room frees as the oldest sends leave the 24 h window; queued recipients elsewhere do not.
  const toFree = needed - use.left;
  const freedAt =
    toFree <= use.used_24h ? await campaignsRepo.nthSendSince(trx, now - DAY, toFree) : undefined;
  if (freedAt === undefined) {
    throw new AppError(
      'messaging_limit_reached',
      `${base}; wait until other campaigns finish or cancel one, then start it again`,
      numbers,
    );
  }
  const at = Math.max(freedAt + DAY, row.start_at ?? 0);
  return {
    at,
    reason: `${base}; scheduled for ${toIso(at)}, when enough earlier sends are 24 hours old`,
  };
}

export function pauseCampaign(deps: CampaignDeps, id: string): Promise<CampaignView> {
  return command(deps, id, 'pause', (trx, row, now) =>
    pauseWithReason(trx, row, null, { ids: deps.ids, now }),
  );
}

/**
 * Pauses a running or scheduled campaign (a person: reason null; the feeder's auto-pause: why) and
 * takes its sends not yet started back from the outbox. False when it was no longer in those states.
 */
export async function pauseWithReason(
  trx: Db,
  row: CampaignRow,
  reason: string | null,
  ctx: { ids: IdSource; now: number },
): Promise<boolean> {
  const now = ctx.now;
  const ok = await moveCampaign(
    trx,
    row,
    ALLOWED_FROM.pause,
    'paused',
    { paused_at: now, pause_reason: reason, updated_at: now },
    { ...ctx, reason: reason ?? 'root' },
  );
  if (ok)
    await takeBackFromOutbox(trx, row.id, reason ? `campaign paused: ${reason}` : 'campaign paused', now);
  return ok;
}

/** Resumes where it stopped, once its template is usable again; the failure window starts afresh. */
export function resumeCampaign(deps: CampaignDeps, id: string): Promise<CampaignView> {
  return command(deps, id, 'resume', async (trx, row, now) => {
    const template = JSON.parse(row.template) as TemplateMessage;
    const blocked = templateVerdict(template, await templatesRepo.get(trx, template.name, template.language));
    if (blocked) {
      throw new AppError(
        'template_not_approved',
        `cannot resume: ${blocked}; resume once Meta approves it again (the template sync or its webhook will say so), or cancel and retarget with another template`,
      );
    }
    return moveCampaign(
      trx,
      row,
      ['paused'],
      runState(row.start_at, now),
      { paused_at: null, pause_reason: null, recent_outcomes: '', updated_at: now },
      { ids: deps.ids, now },
    );
  });
}

export function cancelCampaign(deps: CampaignDeps, id: string): Promise<CampaignView> {
  return command(deps, id, 'cancel', async (trx, row, now) => {
    const ok = await moveCampaign(
      trx,
      row,
      ALLOWED_FROM.cancel,
      'cancelled',
      { cancelled_at: now, updated_at: now },
      { ids: deps.ids, now },
    );
    if (ok) await takeBackFromOutbox(trx, row.id, 'campaign cancelled', now);
    return ok;
  });
}

/**
 * Cancels the campaign's outbox rows that are still queued (a send already started finishes and is
 * recorded) and puts their recipients back to "not in the outbox", so a resume queues them again.
 */
async function takeBackFromOutbox(trx: Db, campaignId: string, reason: string, now: number): Promise<void> {
  const held = (await campaignsRepo.inOutbox(trx, campaignId)).map((h) => h.outbox_id);
  await outboxRepo.cancelQueued(trx, held, reason, now);
  await campaignsRepo.detachCancelled(trx, campaignId, held, now);
}
