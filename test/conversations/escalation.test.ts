import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/conversations/conversation.js';
import {
  evaluateMessageEscalation,
  isSlaBreached,
  matchEscalationKeyword,
  permanentFailureEscalation,
  slaDueAt,
  slaEscalation,
} from '../../src/conversations/escalation.js';
import { COMPLAINTS, FIXTURE_TEXTS, fullConfig, NEUTRALS } from './engine-config.js';

const defaults = fullConfig().escalation;
const MIN = 60_000;

describe('keyword rule', () => {
  it.each([
    [FIXTURE_TEXTS.lang_es_complaint_human, { language: 'es', keyword: 'persona' }],
    [FIXTURE_TEXTS.lang_pt_complaint_human, { language: 'pt', keyword: 'atendente' }],
    [FIXTURE_TEXTS.lang_de_complaint_human, { language: 'de', keyword: 'mitarbeiter' }],
    ['Can I speak to a PERSON?', { language: 'en', keyword: 'person' }],
    ['I need someone real', { language: 'en', keyword: 'someone real' }],
    ['Quero fazer uma reclamacao', { language: 'pt', keyword: 'reclamação' }],
    ['Ich will eine Ruckerstattung', { language: 'de', keyword: 'rückerstattung' }],
  ])('%s → %j', (text, expected) => {
    expect(matchEscalationKeyword(text, defaults.keywords)).toEqual(expected);
  });

  it.each([
    'my personal details changed', // "person" inside a word
    'the agency called', // "agent" inside a word
    'humanity', // "human" inside a word
    'Refunded already, thanks', // "refund" inside a word
    ...NEUTRALS.map(([, t]) => t),
  ])('does not fire on %j', (text) => {
    expect(matchEscalationKeyword(text, defaults.keywords)).toBeNull();
  });

  it('is off with an empty keyword map', () => {
    const cfg = fullConfig({ escalation: { keywords: {} } }).escalation;
    expect(matchEscalationKeyword('I want a human agent', cfg.keywords)).toBeNull();
  });

  it('uses operator keywords per language', () => {
    const cfg = fullConfig({ escalation: { keywords: { fr: ['conseiller'] } } }).escalation;
    expect(matchEscalationKeyword('je veux un Conseiller', cfg.keywords)).toEqual({
      language: 'fr',
      keyword: 'conseiller',
    });
    expect(matchEscalationKeyword('I want a human', cfg.keywords)).toBeNull();
  });
});

describe('evaluateMessageEscalation', () => {
  it.each(COMPLAINTS)('escalates the %s complaint fixture', (_lang, text) => {
    expect(evaluateMessageEscalation({ text, unanswered_count: 1 }, defaults)?.rule).toBe('keyword');
  });

  it.each(COMPLAINTS)(
    'escalates the %s complaint by sentiment alone when keywords are off',
    (_lang, text) => {
      const cfg = fullConfig({ escalation: { keywords: {} } }).escalation;
      const d = evaluateMessageEscalation({ text, unanswered_count: 1 }, cfg);
      expect(d?.rule).toBe('sentiment');
      expect(d?.reason).toMatch(/^sentiment -0\.\d+ below -0\.5$/);
    },
  );

  it.each(NEUTRALS)('does not escalate the neutral %s fixture', (_lang, text) => {
    expect(evaluateMessageEscalation({ text, unanswered_count: 1 }, defaults)).toBeNull();
  });

  it('checks keyword, then sentiment, then unanswered count', () => {
    const d = evaluateMessageEscalation({ text: 'terrible, I want a refund', unanswered_count: 5 }, defaults);
    expect(d).toEqual({ rule: 'keyword', reason: 'keyword "refund" (en)' });
  });

  it.each([
    [null, 'this is terrible', true],
    [-0.8, 'this is terrible', false], // -0.728 is not below -0.8
    [-0.5, 'this is terrible', true],
    [-0.5, 'this is bad', false], // -0.469
  ])('sentiment threshold %s on %j → escalates %s', (threshold, text, fires) => {
    const cfg = fullConfig({
      escalation: { keywords: {}, sentiment_threshold: threshold, unanswered_messages: null },
    });
    const d = evaluateMessageEscalation({ text, unanswered_count: 1 }, cfg.escalation);
    expect(d !== null).toBe(threshold !== null && fires);
  });

  it.each([
    [3, 2, false],
    [3, 3, true],
    [3, 4, true],
    [5, 4, false],
    [null, 50, false],
  ])('unanswered rule N=%s with %i messages → %s', (n, count, fires) => {
    const cfg = fullConfig({ escalation: { unanswered_messages: n } }).escalation;
    const d = evaluateMessageEscalation({ text: 'oi', unanswered_count: count }, cfg);
    expect(d?.rule === 'unanswered_messages').toBe(fires);
  });

  it('fires the unanswered rule for a message without text', () => {
    expect(evaluateMessageEscalation({ text: null, unanswered_count: 3 }, defaults)?.rule).toBe(
      'unanswered_messages',
    );
  });
});

describe('SLA rule', () => {
  const t0 = Date.UTC(2026, 0, 5, 8);
  const conv = (
    state: 'open' | 'pending' | 'escalated' | 'closed',
    route: Route,
    last: number | null = t0,
  ) => ({
    queue_state: state,
    assigned_route: route,
    last_customer_message_at: last,
  });

  it.each([
    ['open', 'human', 15 * MIN, true],
    ['open', 'hybrid', 15 * MIN, true],
    ['open', 'human', 15 * MIN - 1, false],
    ['open', 'ai', 60 * MIN, false],
    ['pending', 'human', 60 * MIN, false],
    ['escalated', 'human', 60 * MIN, false],
    ['closed', 'hybrid', 60 * MIN, false],
  ] as const)('%s routed %s, %i ms after the customer → breached %s', (state, route, after, breached) => {
    expect(isSlaBreached(conv(state, route), t0 + after, defaults)).toBe(breached);
  });

  it('is due at the last customer message + sla', () => {
    expect(slaDueAt(conv('open', 'human'), defaults)).toBe(t0 + 15 * MIN);
    expect(slaDueAt(conv('open', 'human', null), defaults)).toBeNull();
  });

  it('follows the configured sla and is off with null', () => {
    const short = fullConfig({ escalation: { sla: '2m' } }).escalation;
    expect(isSlaBreached(conv('open', 'human'), t0 + 2 * MIN, short)).toBe(true);
    expect(slaEscalation(short).reason).toBe('no reply within 2m');
    const off = fullConfig({ escalation: { sla: null } }).escalation;
    expect(isSlaBreached(conv('open', 'human'), t0 + 100 * 24 * 60 * MIN, off)).toBe(false);
  });
});

describe('permanent failure rule', () => {
  it('escalates with the error code, unless switched off', () => {
    expect(permanentFailureEscalation(defaults, 131026)).toEqual({
      rule: 'permanent_failure',
      reason: 'an outbound message failed permanently (131026)',
    });
    const off = fullConfig({ escalation: { on_permanent_failure: false } }).escalation;
    expect(permanentFailureEscalation(off, 131026)).toBeNull();
  });
});
