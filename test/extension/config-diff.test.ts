import { describe, expect, it } from 'vitest';
import { leafPaths, pruneUnchanged } from '../../src/extension/config-diff.js';

describe('pruneUnchanged', () => {
  const current = {
    runtime: { status: 'active', automation_mode: 'assisted' },
    follow_up_rules: [{ id: 'a', after: '4h' }],
    quiet_hours: null,
    channels: { access_token: '[redacted]', phone_number_id: 'sandbox' },
  };
  it.each([
    ['an identical document', current, {}],
    [
      'one changed leaf',
      { runtime: { status: 'active', automation_mode: 'priority' } },
      { runtime: { automation_mode: 'priority' } },
    ],
    [
      'an array compared whole',
      { follow_up_rules: [{ id: 'a', after: '5h' }] },
      { follow_up_rules: [{ id: 'a', after: '5h' }] },
    ],
    ['an equal array', { follow_up_rules: [{ id: 'a', after: '4h' }] }, {}],
    ['an object replacing null', { quiet_hours: { start: '21:00' } }, { quiet_hours: { start: '21:00' } }],
    ['a redacted secret sent back', { channels: { access_token: '[redacted]' } }, {}],
    [
      'a new secret',
      { channels: { access_token: 'new-token-1234' } },
      { channels: { access_token: 'new-token-1234' } },
    ],
    ['an unknown key', { nope: { deep: 1 } }, { nope: { deep: 1 } }],
    ['an empty object', { runtime: {} }, {}],
  ])('keeps only what differs: %s', (_name, patch, expected) => {
    expect(pruneUnchanged(patch as Record<string, unknown>, current)).toEqual(expected);
  });
});

describe('leafPaths', () => {
  it.each([
    [{}, []],
    [{ a: 1 }, [['a']]],
    [
      { a: { b: 1, c: [1] } },
      [
        ['a', 'b'],
        ['a', 'c'],
      ],
    ],
    [{ a: { b: {} } }, [['a', 'b']]],
    [{ a: null }, [['a']]],
  ])('lists the changed values of %j', (doc, expected) => {
    expect(leafPaths(doc as Record<string, unknown>)).toEqual(expected);
  });
});
