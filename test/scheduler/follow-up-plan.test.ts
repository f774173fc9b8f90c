import { describe, expect, it } from 'vitest';
import { followUpRule } from '../../src/config/schema.js';
import {
  deferredDueAt,
  type FollowUpRuleInput,
  type FollowUpState,
  kindAt,
  planNextFollowUp,
  replanAsTemplate,
  requestedDueAt,
  sequenceOf,
} from '../../src/scheduler/follow-up-plan.js';

const H = 3_600_000;
const T0 = Date.parse('2026-01-05T10:00:00Z'); // the business's last message
const template = { name: 'still_there', language: 'en' };

/** Rules as the config schema yields them (durations parsed, defaults filled). */
function rules(...docs: Record<string, unknown>[]): FollowUpRuleInput[] {
  return docs.map((d) => followUpRule.parse(d));
}

function state(over: Partial<FollowUpState> = {}): FollowUpState {
  return {
    conversationClass: 'general',
    lastBusinessMessageAt: T0,
    sentCounts: {},
    doneThisSilence: [],
    windowExpiresAt: T0 + 20 * H, // the customer wrote 4 h before our reply
    quietHours: null,
    now: T0,
    ...over,
  };
}

const nudge = { id: 'nudge', after: '4h', text: 'Still there?', template };
const last = { id: 'last_call', after: '30h', template };

describe('planNextFollowUp', () => {
  it('plans the first rule of the sequence `after` the business message, as text inside the window', () => {
    expect(planNextFollowUp(rules(nudge), state())).toEqual({
      next: { rule_id: 'nudge', due_at: T0 + 4 * H, kind: 'text' },
      skipped: [],
    });
  });

  it('orders the sequence by `after`, whatever the order in the config', () => {
    const plan = planNextFollowUp(rules(last, nudge), state());
    expect(plan.next?.rule_id).toBe('nudge');
    expect(sequenceOf(rules(last, nudge)).map((r) => r.id)).toEqual(['nudge', 'last_call']);
  });

  it('continues the sequence after the rules done in this silence, counting from its start', () => {
    const plan = planNextFollowUp(
      rules(nudge, last),
      state({ doneThisSilence: ['nudge'], sentCounts: { nudge: 1 } }),
    );
    expect(plan).toEqual({
      next: { rule_id: 'last_call', due_at: T0 + 30 * H, kind: 'template' },
      skipped: [],
    });
  });

  it('has nothing left once every rule went out in this silence', () => {
    expect(planNextFollowUp(rules(nudge, last), state({ doneThisSilence: ['nudge', 'last_call'] }))).toEqual({
      next: null,
      skipped: [],
    });
  });

  it('has nothing to do without rules', () => {
    expect(planNextFollowUp([], state())).toEqual({ next: null, skipped: [] });
  });

  it.each<[string, Record<string, unknown>, Partial<FollowUpState>, 'text' | 'template' | null]>([
    ['text inside the window', { id: 'r', after: '4h', text: 't' }, {}, 'text'],
    [
      'template when the rule has no text, even inside the window',
      { id: 'r', after: '4h', template },
      {},
      'template',
    ],
    ['template outside the window', { id: 'r', after: '24h', text: 't', template }, {}, 'template'],
    [
      'template when the window never opened',
      { id: 'r', after: '1h', text: 't', template },
      { windowExpiresAt: null },
      'template',
    ],
    ['skip outside the window without a template', { id: 'r', after: '24h', text: 't' }, {}, null],
    // Due 30 s before the window closes: too close to send text safely.
    [
      'template when text would be due too close to the window closing',
      { id: 'r', after: '4h', text: 't', template },
      { windowExpiresAt: T0 + 4 * H + 30_000 },
      'template',
    ],
  ])('%s', (_name, rule, over, kind) => {
    const plan = planNextFollowUp(rules(rule), state(over));
    if (kind === null) {
      expect(plan).toEqual({ next: null, skipped: [{ rule_id: 'r', reason: 'window_closed_no_template' }] });
    } else {
      expect(plan.next?.kind).toBe(kind);
    }
  });

  it('moves on to the next rule when one is skipped for the window, recording why', () => {
    const plan = planNextFollowUp(rules({ id: 'text_only', after: '22h', text: 'Hello?' }, last), state());
    expect(plan).toEqual({
      next: { rule_id: 'last_call', due_at: T0 + 30 * H, kind: 'template' },
      skipped: [{ rule_id: 'text_only', reason: 'window_closed_no_template' }],
    });
  });

  it('skips a rule that reached max_per_conversation over earlier silences', () => {
    const plan = planNextFollowUp(
      rules({ ...nudge, max_per_conversation: 2 }, last),
      state({ sentCounts: { nudge: 2 } }),
    );
    expect(plan.skipped).toEqual([{ rule_id: 'nudge', reason: 'max_reached' }]);
    expect(plan.next?.rule_id).toBe('last_call');
    expect(
      planNextFollowUp(rules({ ...nudge, max_per_conversation: 2 }), state({ sentCounts: { nudge: 1 } })).next
        ?.rule_id,
    ).toBe('nudge');
  });

  it('applies a rule only to its classes', () => {
    const r = rules({ ...nudge, classes: ['sales'] });
    expect(planNextFollowUp(r, state({ conversationClass: 'sales' })).next?.rule_id).toBe('nudge');
    expect(planNextFollowUp(r, state({ conversationClass: 'support' }))).toEqual({
      next: null,
      skipped: [{ rule_id: 'nudge', reason: 'class_not_covered' }],
    });
  });

  it('uses only the rule a class names when its config names one', () => {
    const r = rules(nudge, { id: 'vip', after: '8h', text: 'We are here for you' });
    const plan = planNextFollowUp(r, state({ conversationClass: 'vip', classRuleId: 'vip' }));
    expect(plan.next?.rule_id).toBe('vip');
    expect(plan.skipped).toEqual([{ rule_id: 'nudge', reason: 'class_not_covered' }]);
  });

  it('waits for the end of quiet hours', () => {
    const plan = planNextFollowUp(
      rules({ id: 'r', after: '12h', text: 't', template }),
      state({ quietHours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' } }),
    );
    // Due 22:00Z = 23:00 Berlin → 07:00 Berlin = 06:00Z; by then the window (06:00Z) has closed.
    expect(plan.next).toEqual({ rule_id: 'r', due_at: Date.parse('2026-01-06T06:00:00Z'), kind: 'template' });
  });

  it('does not send a burst after downtime: an overdue rule whose successor is also due is superseded', () => {
    const plan = planNextFollowUp(rules(nudge, last), state({ now: T0 + 31 * H }));
    expect(plan).toEqual({
      next: { rule_id: 'last_call', due_at: T0 + 30 * H, kind: 'template' },
      skipped: [{ rule_id: 'nudge', reason: 'superseded' }],
    });
    // A successor that cannot go out (max reached) does not supersede anything.
    const kept = planNextFollowUp(
      rules(nudge, last),
      state({ now: T0 + 31 * H, sentCounts: { last_call: 1 } }),
    );
    expect(kept.next?.rule_id).toBe('nudge');
  });
});

describe('kindAt', () => {
  it.each<[boolean, boolean, number | null, number, 'text' | 'template' | null]>([
    [true, true, T0 + H, T0, 'text'],
    [true, true, T0 + H, T0 + H, 'template'],
    [true, false, T0 + H, T0 + H, null],
    [false, true, T0 + H, T0, 'template'],
    [false, false, T0 + H, T0, null],
    [true, true, null, T0, 'template'],
  ])('text %s, template %s, window until %s, due %s → %s', (hasText, hasTemplate, expires, due, kind) => {
    const rule = { text: hasText ? 't' : undefined, template: hasTemplate ? template : undefined };
    expect(kindAt(rule, due, expires, 0)).toBe(kind);
  });
});

describe('replanAsTemplate', () => {
  it('re-plans a follow-up that hit 131047 as its template, now', () => {
    expect(replanAsTemplate({ id: 'nudge', template }, T0)).toEqual({
      action: 'send_template',
      rule_id: 'nudge',
      due_at: T0,
      kind: 'template',
    });
  });

  it('still respects quiet hours', () => {
    const r = replanAsTemplate({ id: 'nudge', template }, Date.parse('2026-01-05T23:00:00Z'), {
      start: '22:00',
      end: '07:00',
      timezone: 'UTC',
    });
    expect(r).toMatchObject({ action: 'send_template', due_at: Date.parse('2026-01-06T07:00:00Z') });
  });

  it('records the skip when the rule has no template', () => {
    expect(replanAsTemplate({ id: 'nudge', template: undefined }, T0)).toEqual({
      action: 'skip',
      rule_id: 'nudge',
      reason: 'window_closed_no_template',
    });
  });
});

describe('due times asked for or deferred', () => {
  const quiet = { start: '22:00', end: '07:00', timezone: 'UTC' };
  const at = (iso: string) => Date.parse(iso);

  it.each([
    ['no time asked: now', undefined, '2026-01-05T12:00:00Z', null, '2026-01-05T12:00:00Z'],
    ['a past time: now', at('2026-01-05T11:00:00Z'), '2026-01-05T12:00:00Z', null, '2026-01-05T12:00:00Z'],
    [
      'a later time as asked',
      at('2026-01-05T15:00:00Z'),
      '2026-01-05T12:00:00Z',
      quiet,
      '2026-01-05T15:00:00Z',
    ],
    [
      'inside quiet hours: when they end',
      at('2026-01-05T23:30:00Z'),
      '2026-01-05T12:00:00Z',
      quiet,
      '2026-01-06T07:00:00Z',
    ],
    [
      'now inside quiet hours: when they end',
      undefined,
      '2026-01-06T03:00:00Z',
      quiet,
      '2026-01-06T07:00:00Z',
    ],
  ])('requestedDueAt, %s', (_, asked, now, quietHours, expected) => {
    expect(requestedDueAt(asked, at(now), quietHours)).toBe(at(expected));
  });

  it('deferredDueAt is null outside quiet hours and their end inside them', () => {
    expect(deferredDueAt(at('2026-01-05T12:00:00Z'), quiet)).toBeNull();
    expect(deferredDueAt(at('2026-01-05T12:00:00Z'), null)).toBeNull();
    expect(deferredDueAt(at('2026-01-05T22:00:00Z'), quiet)).toBe(at('2026-01-06T07:00:00Z'));
  });
});
