import { describe, expect, it } from 'vitest';
import { accessFor, checkAccess } from '../../src/extension/config-access.js';

describe('accessFor', () => {
  it.each([
    ['conversation_classes', [], 'standard'],
    ['escalation.sla', '30m', 'standard'],
    ['follow_up_rules', [], 'standard'],
    ['quiet_hours', null, 'standard'],
    ['responder.rules', [], 'standard'],
    ['responder.kind', 'openai-compatible', 'standard'],
    ['responder.openai.model', 'llama3', 'standard'],
    ['responder.openai.api_key', 'sk-12345678', 'root'],
    ['responder.openai.base_url', 'http://127.0.0.1:1', 'root'],
    ['responder.openai', { model: 'x' }, 'root'],
    ['opt_out.keywords', {}, 'standard'],
    ['scorer.languages', ['en'], 'standard'],
    ['conversations.close_after', '48h', 'standard'],
    ['runtime.automation_mode', 'priority', 'standard'],
    ['runtime.automation_mode', 'assisted', 'standard'],
    ['runtime.automation_mode', 'autonomous', 'root'],
    ['runtime.status', 'paused', 'root'],
    ['runtime.access_tier', 'root', 'root'],
    ['channels.access_token', 'x', 'root'],
    ['channels.phone_number_id', '123', 'root'],
    ['analytics.enabled', false, 'root'],
    ['retention.raw_webhooks', '7d', 'root'],
    ['outbound.rate_per_second', 5, 'root'],
    ['scheduler.tick_every', '1s', 'root'],
    ['inbox.max_attempts', 3, 'root'],
    ['campaigns.attribution_window', '24h', 'root'],
    ['templates', [], 'root'],
    ['server.port', 1, 'read_only'],
    ['database.path', 'x', 'read_only'],
    ['log.level', 'debug', 'read_only'],
    ['made_up', 1, undefined],
  ])('%s = %j needs %s', (dotted, value, expected) => {
    expect(accessFor(dotted.split('.'), value)).toBe(expected);
  });
});

describe('checkAccess', () => {
  const changes = [
    { path: ['follow_up_rules'], value: [] },
    { path: ['channels', 'access_token'], value: 'x' },
    { path: ['log', 'level'], value: 'debug' },
  ];
  it('denies root keys to a standard token and lists read-only keys for every tier', () => {
    expect(checkAccess(changes, 'standard')).toEqual({
      readOnly: ['log.level'],
      denied: ['channels.access_token'],
    });
    expect(checkAccess(changes, 'root')).toEqual({ readOnly: ['log.level'], denied: [] });
  });
});
