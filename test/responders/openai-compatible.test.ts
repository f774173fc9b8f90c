import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { FakeClock } from '../../src/lib/clock.js';
import type { Responder } from '../../src/responders/contract.js';
import { createResponderHealth, type ResponderHealth } from '../../src/responders/health.js';
import { createOpenAiResponder, type ResponderLogger } from '../../src/responders/openai-compatible.js';
import { createRulesResponder } from '../../src/responders/rules.js';
import { fullConfig } from '../conversations/engine-config.js';
import { completion, type FakeLlm, startFakeLlm } from '../helpers/fake-llm.js';
import { input } from './fixtures.js';

const API_KEY = 'sk-test-secret-key-0123456789';
// Generous for answers that do come (a loaded box must not turn a prompt answer into a timeout); the
// hanging case below sets its own short timeout, which it reaches whatever the machine's load.
const TIMEOUT_MS = 10_000;
const HANG_TIMEOUT_MS = 300;

let llm: FakeLlm;
let clock: FakeClock;
let health: ResponderHealth;
let logs: Record<string, unknown>[];

const logger: ResponderLogger = { warn: (obj, msg) => logs.push({ ...obj, msg }) };
const fallback = createRulesResponder(
  fullConfig({
    responder: { rules: [{ id: 'fallback', keywords: ['ship'], reply: 'We ship across the EU.' }] },
  }).responder.rules,
);

function openaiConfig(over: Partial<Config['responder']['openai']> = {}): Config['responder']['openai'] {
  const base = fullConfig({
    responder: { openai: { base_url: llm.baseUrl, model: 'test-model', api_key: API_KEY } },
  }).responder.openai;
  return { ...base, timeout: TIMEOUT_MS, ...over };
}

function responder(over: Partial<Config['responder']['openai']> = {}): Responder {
  return createOpenAiResponder({ config: openaiConfig(over), fallback, health, clock, logger });
}

beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(async () => {
  await llm.close();
});
beforeEach(() => {
  llm.requests.length = 0;
  llm.respond({ reply: 'Yes, we ship to Berlin.' });
  clock = new FakeClock();
  health = createResponderHealth();
  logs = [];
});

function expectNoKeyAnywhere(...things: unknown[]): void {
  for (const t of things) expect(JSON.stringify(t)).not.toContain(API_KEY);
}

describe('openai-compatible responder against a local chat-completions server', () => {
  it('posts the bounded prompt with model and bearer key, and returns the answer', async () => {
    const reply = await responder().reply(input(['Hi', ['outbound', 'Hello!'], 'Do you ship to Berlin?']));
    expect(reply).toEqual({ kind: 'text', text: 'Yes, we ship to Berlin.', source: 'openai-compatible' });
    expect(llm.requests).toHaveLength(1);
    const req = llm.requests[0];
    expect(req?.path).toBe('/v1/chat/completions');
    expect(req?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req?.body.model).toBe('test-model');
    expect(req?.body.stream).toBe(false);
    expect(req?.body.messages).toEqual([
      { role: 'system', content: openaiConfig().system_prompt },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Do you ship to Berlin?' },
    ]);
    expect(health.failing).toBe(false);
    expect(health.last_success_at).toBe(clock.now());
  });

  it('accepts a base URL with a trailing slash and sends no Authorization without a key', async () => {
    await responder({ base_url: `${llm.baseUrl}/`, api_key: undefined }).reply(input(['hi']));
    expect(llm.requests[0]?.path).toBe('/v1/chat/completions');
    expect(llm.requests[0]?.authorization).toBeUndefined();
  });

  it('trims the answer and caps it at WhatsApp’s 4096 characters', async () => {
    llm.respond({ reply: `  ${'y'.repeat(5000)}  ` });
    const reply = await responder().reply(input(['hi']));
    expect(reply.kind === 'text' && reply.text.length).toBe(4096);
  });

  it('sends only the newest messages within max_context_messages and max_prompt_chars', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `message ${i} ${'z'.repeat(400)}`);
    await responder({ max_context_messages: 5, max_prompt_chars: 1200 }).reply(input(many));
    const msgs = llm.requests[0]?.body.messages ?? [];
    expect(msgs.length).toBeLessThanOrEqual(6);
    expect(msgs.reduce((n, m) => n + m.content.length, 0)).toBeLessThanOrEqual(1200);
    expect(msgs.at(-1)?.content).toContain('message 39');
  });

  const failures: [string, Parameters<FakeLlm['respond']>[0], RegExp][] = [
    ['an HTTP 500', { status: 500 }, /HTTP 500/],
    ['an HTTP 401 (bad key)', { status: 401 }, /HTTP 401/],
    ['a body that is not JSON', { raw: '<html>gateway error</html>' }, /not JSON/],
    ['a completion without choices', { raw: JSON.stringify({ choices: [] }) }, /no choices/],
    ['choices without content', { raw: JSON.stringify({ choices: [{ message: {} }] }) }, /not a string/],
    ['an empty answer', { raw: completion('   ') }, /empty/],
    ['a JSON null', { raw: 'null' }, /no choices/],
  ];

  it.each(failures)(
    'falls back to rules and marks itself failing on %s',
    async (_label, behaviour, error) => {
      llm.respond(behaviour);
      const reply = await responder().reply(input(['do you ship?']));
      expect(reply).toMatchObject({ kind: 'text', source: 'rules', text: 'We ship across the EU.' });
      expect(health.failing).toBe(true);
      expect(health.last_error).toMatch(error);
      expect(logs[0]).toMatchObject({ event: 'responder.failed', conversation_id: '01JTESTCONV' });
      expectNoKeyAnywhere(health.snapshot(), logs, reply);
    },
  );

  it('gives up on a slow answer at its timeout and falls back', async () => {
    llm.respond({ hang: true });
    const reply = await responder({ timeout: HANG_TIMEOUT_MS }).reply(input(['do you ship?']));
    expect(reply).toMatchObject({ kind: 'text', source: 'rules' });
    expect(health.last_error).toMatch(/no answer within 300 ms/);
    expect(logs[0]).toMatchObject({ kind: 'timeout' });
  });

  it('falls back when nothing listens at the base URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const reply = await responder({ base_url: `http://127.0.0.1:${port}/v1` }).reply(input(['do you ship?']));
    expect(reply).toMatchObject({ source: 'rules' });
    expect(health.last_error).toMatch(/request failed: ECONNREFUSED/);
  });

  it('says none when the provider fails and no rule matches', async () => {
    llm.respond({ status: 503 });
    expect(await responder().reply(input(['something else']))).toEqual({
      kind: 'none',
      reason: 'no responder rule matched',
    });
  });

  it('stays failing across failures and recovers on the next good answer', async () => {
    const r = responder();
    llm.respond({ status: 500 });
    await r.reply(input(['a']));
    clock.advance(5000);
    await r.reply(input(['b']));
    expect(health.snapshot()).toMatchObject({ failing: true, consecutive_failures: 2 });
    expect(health.failing_since).toBe(clock.now() - 5000);
    llm.respond({ reply: 'back' });
    expect(await r.reply(input(['c']))).toMatchObject({ source: 'openai-compatible', text: 'back' });
    expect(health.snapshot()).toMatchObject({ failing: false, consecutive_failures: 0, failing_since: null });
  });

  it('never puts the key or URL credentials into errors', async () => {
    const url = new URL(llm.baseUrl);
    url.username = 'user';
    url.password = API_KEY;
    llm.respond({ status: 500, body: JSON.stringify({ error: `invalid key ${API_KEY}` }) });
    await responder({ base_url: url.toString() }).reply(input(['hi']));
    expect(health.last_error).toContain(`http://127.0.0.1:${url.port}/v1/chat/completions`);
    expectNoKeyAnywhere(health.snapshot(), logs);
  });
});
