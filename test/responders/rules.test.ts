import { describe, expect, it } from 'vitest';
import { createRulesResponder } from '../../src/responders/rules.js';
import { fullConfig } from '../conversations/engine-config.js';
import { input } from './fixtures.js';

const rules = fullConfig({
  responder: {
    rules: [
      { id: 'hours', keywords: ['opening hours', 'Öffnungszeiten', 'horario'], reply: 'We are open 9–17.' },
      { id: 'shipping', keywords: ['ship', 'entrega'], reply: 'We ship across the EU.' },
      { id: 'vip', classes: ['vip'], reply: 'A specialist will answer shortly.' },
      { keywords: ['hello'], reply: 'Hi there!' },
    ],
  },
}).responder.rules;

describe('rules responder', () => {
  const responder = createRulesResponder(rules);

  it.each([
    ['Hi, do you ship to Berlin?', 'shipping'],
    ['Vocês fazem ENTREGA em Campinas?', 'shipping'],
    ['Könnten Sie mir die Offnungszeiten schicken?', 'hours'],
    ['what are your opening hours?', 'hours'],
    ['hello', '#3'],
  ])('%j → rule %s', async (text, ruleId) => {
    const reply = await responder.reply(input([text]));
    expect(reply).toMatchObject({ kind: 'text', source: 'rules', rule_id: ruleId });
  });

  it('matches whole words only', async () => {
    expect(await responder.reply(input(['my shipment is late']))).toEqual({
      kind: 'none',
      reason: 'no responder rule matched',
    });
  });

  it('matches by conversation class', async () => {
    expect(await responder.reply(input(['anything'], 'vip'))).toMatchObject({
      text: 'A specialist will answer shortly.',
    });
  });

  it('takes the first matching rule', async () => {
    expect(await responder.reply(input(['hello, do you ship?']))).toMatchObject({ rule_id: 'shipping' });
  });

  it('answers the newest customer message, not older ones or our own', async () => {
    const msgs = input(['do you ship?', ['outbound', 'We ship across the EU.'], 'ok thanks']);
    expect((await responder.reply(msgs)).kind).toBe('none');
    const ours = input(['thanks', ['outbound', 'hello']]);
    expect((await responder.reply(ours)).kind).toBe('none');
  });

  it('says nothing when no rules are configured (the default)', async () => {
    const empty = createRulesResponder(fullConfig().responder.rules);
    expect(await empty.reply(input(['hello']))).toEqual({
      kind: 'none',
      reason: 'no responder rules configured',
    });
  });

  it('handles a conversation without messages or text', async () => {
    expect((await responder.reply(input([]))).kind).toBe('none');
    expect((await responder.reply(input([['inbound', null]]))).kind).toBe('none');
  });
});
