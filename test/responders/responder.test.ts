import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/app-error.js';
import { FakeClock } from '../../src/lib/clock.js';
import { createResponder } from '../../src/responders/responder.js';
import { fullConfig } from '../conversations/engine-config.js';

const clock = new FakeClock();

describe('createResponder', () => {
  it('builds the rules responder by default', () => {
    const { responder, health } = createResponder(fullConfig().responder, { clock });
    expect(responder.kind).toBe('rules');
    expect(health.failing).toBe(false);
  });

  it('builds the openai-compatible responder when configured', () => {
    const cfg = fullConfig({
      responder: {
        kind: 'openai-compatible',
        openai: { base_url: 'http://127.0.0.1:11434/v1', model: 'llama3' },
      },
    });
    expect(createResponder(cfg.responder, { clock }).responder.kind).toBe('openai-compatible');
  });

  it.each([
    ['base_url', { model: 'llama3' }],
    ['model', { base_url: 'http://127.0.0.1:11434/v1' }],
  ])('refuses openai-compatible without %s, naming the key', (key, openai) => {
    const cfg = fullConfig({ responder: { kind: 'openai-compatible', openai } });
    try {
      createResponder(cfg.responder, { clock });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('config_invalid');
      expect((err as AppError).message).toContain(`responder.openai.${key}`);
    }
  });
});
