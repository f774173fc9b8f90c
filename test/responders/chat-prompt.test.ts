import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildChatMessages, type PromptLimits } from '../../src/responders/chat-prompt.js';
import { input } from './fixtures.js';

const limits: PromptLimits = { system_prompt: 'Be brief.', max_context_messages: 12, max_prompt_chars: 8000 };
const total = (msgs: { content: string }[]) => msgs.reduce((n, m) => n + m.content.length, 0);

describe('buildChatMessages', () => {
  it('puts the system prompt first and maps customer → user, business → assistant', () => {
    expect(buildChatMessages(input(['hi', ['outbound', 'hello!'], 'price?']), limits)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello!' },
      { role: 'user', content: 'price?' },
    ]);
  });

  it('keeps only the newest max_context_messages messages with text', () => {
    const msgs = input(['1', '2', ['inbound', null], '3', ['outbound', '  '], '4']);
    const out = buildChatMessages(msgs, { ...limits, max_context_messages: 2 });
    expect(out.slice(1).map((m) => m.content)).toEqual(['3', '4']);
  });

  it('drops older messages that do not fit the character budget', () => {
    const out = buildChatMessages(input(['a'.repeat(300), 'b'.repeat(300), 'c'.repeat(300)]), {
      ...limits,
      system_prompt: 'S'.repeat(100),
      max_prompt_chars: 750,
    });
    expect(out.map((m) => m.content[0])).toEqual(['S', 'b', 'c']);
  });

  it('cuts the newest message rather than dropping it', () => {
    const out = buildChatMessages(input(['x'.repeat(10_000)]), { ...limits, max_prompt_chars: 500 });
    expect(out[1]?.content.length).toBe(500 - 'Be brief.'.length);
    expect(out[1]?.content.endsWith('…')).toBe(true);
  });

  it('gives the system prompt at most half the budget', () => {
    const out = buildChatMessages(input(['hello']), {
      ...limits,
      system_prompt: 'S'.repeat(4000),
      max_prompt_chars: 500,
    });
    expect(out[0]?.content.length).toBe(250);
    expect(out[1]?.content).toBe('hello');
  });

  it('never exceeds max_prompt_chars nor max_context_messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.option(fc.string({ maxLength: 3000 }))), { maxLength: 60 }),
        fc.string({ maxLength: 4000 }),
        fc.integer({ min: 500, max: 20_000 }),
        fc.integer({ min: 1, max: 50 }),
        (raw, system, maxChars, maxMessages) => {
          const msgs = input(raw.map(([inbound, text]) => [inbound ? 'inbound' : 'outbound', text]));
          const out = buildChatMessages(msgs, {
            system_prompt: system,
            max_prompt_chars: maxChars,
            max_context_messages: maxMessages,
          });
          expect(total(out)).toBeLessThanOrEqual(maxChars);
          expect(out.filter((m) => m.role !== 'system').length).toBeLessThanOrEqual(maxMessages);
        },
      ),
      { numRuns: 300 },
    );
  });
});
