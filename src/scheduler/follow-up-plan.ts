// Follow-up planning (SPEC §6) as pure functions: given the rules, the conversation's class and where
// it stands in its silence, which follow-up comes next, when, and as text or template; or why none.
// The one owner of every follow-up due time: planned (planNextFollowUp), asked for by an intent
// (requestedDueAt), deferred at claim time (deferredDueAt), re-planned after 131047
// (replanAsTemplate); quiet hours apply to each.
//
// The model: a silence starts with the business's last message (follow-ups themselves do not restart
// it). The rules form one sequence ordered by `after`, each `after` counted from the silence's start,
// and each rule goes out at most once per silence (SPEC §9) and at most `max_per_conversation` times
// over the conversation's silences. Text goes out inside the customer service window, a template
// outside it; a rule that fits neither is skipped with its reason, and the sequence moves on.
import { isQuiet, nextAllowedTime, type QuietHours } from './quiet-hours.js';

export interface FollowUpRuleInput {
  id: string;
  /** Silence before it goes out, ms. */
  after: number;
  text?: string | undefined;
  template?:
    | { name: string; language: string; components?: Record<string, unknown>[] | undefined }
    | undefined;
  max_per_conversation: number;
  /** Classes it applies to; all when absent. */
  classes?: string[] | undefined;
}

export interface FollowUpState {
  /** The conversation's class (`general` when none matched). */
  conversationClass: string;
  /** The class's own `follow_up_rule`, when its config names one: then only that rule applies. */
  classRuleId?: string | null | undefined;
  /** When the business's last message (not counting follow-ups) went out: the silence's start. */
  lastBusinessMessageAt: number;
  /** Follow-ups sent per rule id over the whole conversation (all silences). */
  sentCounts: Readonly<Record<string, number>>;
  /** Rule ids already sent or skipped in this silence; the sequence continues after them. */
  doneThisSilence: readonly string[];
  /** When the customer service window closes (customer's last message + 24 h); null = never opened. */
  windowExpiresAt: number | null;
  quietHours?: QuietHours | null | undefined;
  /** Now; a rule whose successor is already due is skipped as superseded (no burst after downtime). */
  now: number;
}

export type FollowUpKind = 'text' | 'template';

export type SkipReason = 'class_not_covered' | 'max_reached' | 'window_closed_no_template' | 'superseded';

export interface PlannedFollowUp {
  rule_id: string;
  due_at: number;
  kind: FollowUpKind;
}

export interface SkippedRule {
  rule_id: string;
  reason: SkipReason;
}

export interface FollowUpPlan {
  /** The next follow-up to schedule, or null when the sequence has nothing left for this silence. */
  next: PlannedFollowUp | null;
  /** Rules passed over on the way, each with its reason, for the record (SPEC §6). */
  skipped: SkippedRule[];
}

export interface PlanOptions {
  /**
   * Text is only planned when it is due at least this long before the window closes, so a send
   * that waits in the queue a little does not run into 131047. Default 60 s.
   */
  windowMarginMs?: number;
}

/** The rules in sequence order: by `after`, then by their order in the config. */
export function sequenceOf<T extends { after: number }>(rules: readonly T[]): T[] {
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => a.rule.after - b.rule.after || a.index - b.index)
    .map((x) => x.rule);
}

function covers(rule: FollowUpRuleInput, state: FollowUpState): boolean {
  if (state.classRuleId) return rule.id === state.classRuleId;
  return rule.classes === undefined || rule.classes.includes(state.conversationClass);
}

function maxed(rule: FollowUpRuleInput, state: FollowUpState): boolean {
  return (state.sentCounts[rule.id] ?? 0) >= rule.max_per_conversation;
}

/** Text inside the window (with margin), template outside; null when the rule has neither that fits. */
export function kindAt(
  rule: Pick<FollowUpRuleInput, 'text' | 'template'>,
  dueAt: number,
  windowExpiresAt: number | null,
  windowMarginMs = 60_000,
): FollowUpKind | null {
  const inside = windowExpiresAt !== null && dueAt + windowMarginMs < windowExpiresAt; // closed at expiry
  if (inside && rule.text !== undefined) return 'text';
  return rule.template !== undefined ? 'template' : null;
}

/** When a rule falls due in a silence, before quiet hours: what a skipped rule's record shows. */
export function ruleDueAt(rule: Pick<FollowUpRuleInput, 'after'>, silenceFrom: number): number {
  return silenceFrom + rule.after;
}

/**
 * A follow-up asked for at `at` (the follow_up_conversation intent): not before now, and like every
 * planned one never inside quiet hours.
 */
export function requestedDueAt(at: number | undefined, now: number, quietHours?: QuietHours | null): number {
  return nextAllowedTime(Math.max(now, at ?? now), quietHours);
}

/**
 * A claimed follow-up at `now`: null when it may go now, else when it goes instead (quiet hours began
 * after it was planned, or were configured since).
 */
export function deferredDueAt(now: number, quietHours?: QuietHours | null): number | null {
  return quietHours && isQuiet(now, quietHours) ? nextAllowedTime(now, quietHours) : null;
}

export function planNextFollowUp(
  rules: readonly FollowUpRuleInput[],
  state: FollowUpState,
  options: PlanOptions = {},
): FollowUpPlan {
  const done = new Set(state.doneThisSilence);
  const sequence = sequenceOf(rules).filter((r) => !done.has(r.id));
  const skipped: SkippedRule[] = [];

  for (let i = 0; i < sequence.length; i++) {
    const rule = sequence[i] as FollowUpRuleInput;
    if (!covers(rule, state)) {
      skipped.push({ rule_id: rule.id, reason: 'class_not_covered' });
      continue;
    }
    if (maxed(rule, state)) {
      skipped.push({ rule_id: rule.id, reason: 'max_reached' });
      continue;
    }
    const rawDue = ruleDueAt(rule, state.lastBusinessMessageAt);
    const later = sequence.slice(i + 1).find((r) => covers(r, state) && !maxed(r, state));
    if (later && state.lastBusinessMessageAt + later.after <= state.now) {
      skipped.push({ rule_id: rule.id, reason: 'superseded' });
      continue;
    }
    const dueAt = nextAllowedTime(rawDue, state.quietHours);
    const kind = kindAt(rule, dueAt, state.windowExpiresAt, options.windowMarginMs);
    if (kind === null) {
      skipped.push({ rule_id: rule.id, reason: 'window_closed_no_template' });
      continue;
    }
    return { next: { rule_id: rule.id, due_at: dueAt, kind }, skipped };
  }
  return { next: null, skipped };
}

export type ReplanResult =
  | { action: 'send_template'; rule_id: string; due_at: number; kind: 'template' }
  | { action: 'skip'; rule_id: string; reason: 'window_closed_no_template' };

/**
 * A text follow-up failed with 131047 (the window closed before it went out): send the rule's
 * template instead, now (quiet hours permitting), or record why not.
 */
export function replanAsTemplate(
  rule: Pick<FollowUpRuleInput, 'id' | 'template'>,
  now: number,
  quietHours?: QuietHours | null,
): ReplanResult {
  if (rule.template === undefined) {
    return { action: 'skip', rule_id: rule.id, reason: 'window_closed_no_template' };
  }
  return {
    action: 'send_template',
    rule_id: rule.id,
    due_at: nextAllowedTime(now, quietHours),
    kind: 'template',
  };
}
