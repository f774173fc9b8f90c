// Writing follow-up jobs (SPEC §6): when a conversation becomes `pending`, and after each follow-up
// of a silence is sent or skipped, the next one of the sequence is planned (scheduler/follow-up-plan.ts)
// and stored as a row with its due time; the follow_up_conversation intent moves it to a requested time. Runs inside the caller's transaction; no network here.
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import { recordSilencePlanned, recordSilencesEnding } from '../insights/insight-facts.js';
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { type FollowUpRow, followUpsRepo } from '../store/follow-ups-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import { type FollowUpRuleInput, planNextFollowUp, requestedDueAt, ruleDueAt } from './follow-up-plan.js';

export interface FollowUpContext {
  ids: IdSource;
  now: number;
  config: Config;
}

export interface FollowUpConversation {
  id: string;
  conversation_class: string;
  window_expires_at: number | null;
}

/** The follow-up rules as the planner takes them. */
export function ruleInputs(config: Config): FollowUpRuleInput[] {
  return config.follow_up_rules;
}

/** The rule a class pins, when its config names one that exists. */
function classRuleId(config: Config, conversationClass: string): string | null {
  return config.conversation_classes.find((c) => c.name === conversationClass)?.follow_up_rule ?? null;
}

/**
 * A new silence starts at `silenceFrom` (a business message went out): follow-ups planned for earlier
 * silences can no longer apply, and the first rule of the sequence is planned for this one.
 */
export async function startSilence(
  trx: Db,
  conv: FollowUpConversation,
  silenceFrom: number,
  ctx: FollowUpContext,
): Promise<FollowUpRow | null> {
  await recordSilencesEnding(trx, conv.id, ctx.config, ctx);
  const stale = await followUpsRepo.cancelLive(
    trx,
    conv.id,
    'superseded by a newer business message',
    ctx.now,
  );
  await outboxRepo.cancelQueued(trx, stale, 'follow-up superseded', ctx.now);
  return planNext(trx, conv, silenceFrom, ctx);
}

/**
 * Plans and stores the next follow-up of the silence that started at `silenceFrom`. Rules passed over
 * for a reason worth recording (max reached, window closed without template) get a `skipped` row, so
 * the record shows why nothing went out. Returns the scheduled row, or null when the sequence is done.
 */
export async function planNext(
  trx: Db,
  conv: FollowUpConversation,
  silenceFrom: number,
  ctx: FollowUpContext,
): Promise<FollowUpRow | null> {
  const rules = ruleInputs(ctx.config);
  if (rules.length === 0) return null;
  const existing = await followUpsRepo.ofSilence(trx, conv.id, silenceFrom);
  const plan = planNextFollowUp(rules, {
    conversationClass: conv.conversation_class,
    classRuleId: classRuleId(ctx.config, conv.conversation_class),
    lastBusinessMessageAt: silenceFrom,
    sentCounts: await followUpsRepo.sentCounts(trx, conv.id),
    doneThisSilence: existing.map((r) => r.rule_id),
    windowExpiresAt: conv.window_expires_at,
    quietHours: ctx.config.quiet_hours,
    now: ctx.now,
  });
  let sequence = existing.length;
  for (const skip of plan.skipped) {
    if (skip.reason === 'class_not_covered') continue;
    const rule = rules.find((r) => r.id === skip.rule_id);
    const skipped: FollowUpRow = {
      ...base(conv.id, skip.rule_id, silenceFrom, sequence++, ctx),
      due_at: ruleDueAt(rule ?? { after: 0 }, silenceFrom),
      state: 'skipped',
      skip_reason: skip.reason,
    };
    if (await followUpsRepo.insertIfNew(trx, skipped)) {
      await recordFollowUpSkipped(trx, skipped, ctx);
      if (skipped.sequence === 0) await recordSilencePlanned(trx, skipped, ctx.config, ctx);
    }
  }
  if (!plan.next) return null;
  const row: FollowUpRow = {
    ...base(conv.id, plan.next.rule_id, silenceFrom, sequence, ctx),
    due_at: plan.next.due_at,
    state: 'scheduled',
    skip_reason: null,
  };
  if (!(await followUpsRepo.insertIfNew(trx, row))) return null;
  // The first follow-up of a silence starts counting it for follow_up_coverage (SPEC §8).
  if (row.sequence === 0) await recordSilencePlanned(trx, row, ctx.config, ctx);
  return row;
}

/**
 * The follow_up_conversation intent: the silence's scheduled follow-up (planned now if none is) moves
 * to `at` (follow-up-plan.ts's requestedDueAt: not before now, not in quiet hours). Null when no rule
 * applies to this silence.
 */
export async function requestFollowUp(
  trx: Db,
  conv: FollowUpConversation,
  silenceFrom: number,
  at: number | undefined,
  ctx: FollowUpContext,
): Promise<FollowUpRow | null> {
  const live = (await followUpsRepo.ofSilence(trx, conv.id, silenceFrom)).find(
    (f) => f.state === 'scheduled',
  );
  const planned = live ?? (await planNext(trx, conv, silenceFrom, ctx));
  if (!planned) return null;
  const due = requestedDueAt(at, ctx.now, ctx.config.quiet_hours);
  await followUpsRepo.update(trx, planned.id, { due_at: due, updated_at: ctx.now });
  return { ...planned, due_at: due, updated_at: ctx.now };
}

/** `follow_up.skipped` (SPEC §11): a rule passed over, with the reason. */
export async function recordFollowUpSkipped(
  trx: Db,
  row: Pick<FollowUpRow, 'id' | 'conversation_id' | 'rule_id' | 'sequence' | 'silence_from'>,
  ctx: { ids: IdSource; now: number },
  reason: string | null = null,
): Promise<void> {
  await recordEvent(
    trx,
    {
      type: 'follow_up.skipped',
      conversation_id: row.conversation_id,
      data: {
        follow_up_id: row.id,
        rule_id: row.rule_id,
        sequence: row.sequence,
        reason: reason ?? ('skip_reason' in row ? (row as FollowUpRow).skip_reason : null),
      },
    },
    ctx,
  );
}

function base(
  conversationId: string,
  ruleId: string,
  silenceFrom: number,
  sequence: number,
  ctx: FollowUpContext,
) {
  return {
    id: ctx.ids.next(),
    conversation_id: conversationId,
    rule_id: ruleId,
    silence_from: silenceFrom,
    sequence,
    lease_until: null,
    outbox_id: null,
    sent_wamid: null,
    created_at: ctx.now,
    updated_at: ctx.now,
  };
}
