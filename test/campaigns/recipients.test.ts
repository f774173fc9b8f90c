// Recipient lists (SPEC §7): validated per index, de-duplicated into the first occurrence, and
// per-recipient parameters turned into the template's body component.
import { describe, expect, it } from 'vitest';
import { responseRate } from '../../src/campaigns/campaign.js';
import { checkRecipients, MAX_LISTED_PROBLEMS, templateFor } from '../../src/campaigns/recipients.js';

describe('checkRecipients', () => {
  const bad: [string, unknown, string][] = [
    ['too short', { wa_id: '1234567' }, 'recipients.0.wa_id'],
    ['too long', { wa_id: '1234567890123456' }, 'recipients.0.wa_id'],
    ['a plus sign', { wa_id: '+4917000000001' }, 'recipients.0.wa_id'],
    ['spaces', { wa_id: '49 170 000 0001' }, 'recipients.0.wa_id'],
    ['a number type', { wa_id: 4917000000001 }, 'recipients.0.wa_id'],
    ['missing', {}, 'recipients.0.wa_id'],
    ['parameters not a list', { wa_id: '4917000000001', parameters: 'x' }, 'recipients.0.parameters'],
    ['an empty parameter', { wa_id: '4917000000001', parameters: [''] }, 'recipients.0.parameters.0'],
    ['a non-string parameter', { wa_id: '4917000000001', parameters: [1] }, 'recipients.0.parameters.0'],
    [
      'a bad parameter name',
      { wa_id: '4917000000001', parameters: { 'First Name': 'A' } },
      'recipients.0.parameters.First Name',
    ],
    [
      'too many parameters',
      { wa_id: '4917000000001', parameters: Array(21).fill('a') },
      'recipients.0.parameters',
    ],
  ];
  it.each(bad)('refuses %s, naming its path', (_name, entry, path) => {
    const r = checkRecipients([entry as { wa_id: unknown }], 10);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual([path]);
  });

  const good: [string, unknown][] = [
    ['8 digits', { wa_id: '12345678' }],
    ['15 digits', { wa_id: '123456789012345' }],
    ['positional parameters', { wa_id: '4917000000001', parameters: ['Ana', 'order 42'] }],
    ['named parameters', { wa_id: '4917000000001', parameters: { first_name: 'Ana' } }],
    ['null parameters', { wa_id: '4917000000001', parameters: null }],
  ];
  it.each(good)('accepts %s', (_name, entry) => {
    expect(checkRecipients([entry as { wa_id: unknown }], 10).ok).toBe(true);
  });

  it('merges duplicates into the first occurrence and reports each by index', () => {
    const r = checkRecipients(
      [
        { wa_id: '4917000000001' },
        { wa_id: '4917000000002' },
        { wa_id: '4917000000001' },
        { wa_id: '4917000000001' },
      ],
      10,
    );
    expect(r).toEqual({
      ok: true,
      recipients: [
        { index: 0, wa_id: '4917000000001', parameters: null },
        { index: 1, wa_id: '4917000000002', parameters: null },
      ],
      duplicates: [
        { index: 2, wa_id: '4917000000001', first_index: 0 },
        { index: 3, wa_id: '4917000000001', first_index: 0 },
      ],
    });
  });

  it('reports every bad entry by its index, listing at most 100 and counting the rest', () => {
    const list = Array.from({ length: 250 }, (_, i) => ({
      wa_id: i % 2 ? 'x' : `49170000${String(i).padStart(5, '0')}`,
    }));
    const r = checkRecipients(list, 1000);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.total_problems).toBe(125);
    expect(r.problems).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(r.problems[0]?.path).toBe('recipients.1.wa_id');
    expect(r.problems[1]?.path).toBe('recipients.3.wa_id');
  });

  it('refuses more distinct recipients than the maximum, but counts duplicates once', () => {
    const three = [{ wa_id: '4917000000001' }, { wa_id: '4917000000002' }, { wa_id: '4917000000003' }];
    expect(checkRecipients(three, 2).ok).toBe(false);
    expect(checkRecipients([...three.slice(0, 2), three[0] as { wa_id: string }], 2).ok).toBe(true);
  });

  it('refuses an empty list', () => {
    expect(checkRecipients([], 10).ok).toBe(false);
  });
});

describe('templateFor', () => {
  const template = {
    name: 'promo',
    language: 'en',
    components: [
      { type: 'header', parameters: [{ type: 'text', text: 'Sale' }] },
      { type: 'body', parameters: [{ type: 'text', text: 'default' }] },
    ],
  };
  it('keeps the template as it is without parameters', () => {
    expect(templateFor(template, null)).toBe(template);
  });
  it('replaces the body with positional parameters, keeping the other components', () => {
    expect(templateFor(template, ['Ana', '42']).components).toEqual([
      { type: 'header', parameters: [{ type: 'text', text: 'Sale' }] },
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Ana' },
          { type: 'text', text: '42' },
        ],
      },
    ]);
  });
  it('sends named parameters with their parameter_name', () => {
    expect(templateFor({ name: 'p', language: 'en' }, { first_name: 'Ana' }).components).toEqual([
      { type: 'body', parameters: [{ type: 'text', parameter_name: 'first_name', text: 'Ana' }] },
    ]);
  });
});

describe('responseRate', () => {
  const zero = { queued: 0, sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, skipped_opted_out: 0 };
  it.each([
    ['null before any send', { ...zero, queued: 10 }, null],
    ['null when every send failed or was skipped', { ...zero, failed: 3, skipped_opted_out: 2 }, null],
    [
      'replied over everyone reached',
      { ...zero, sent: 1, delivered: 2, read: 3, replied: 4, failed: 5 },
      0.4,
    ],
    ['one when all replied', { ...zero, replied: 7 }, 1],
  ])('is %s', (_name, counts, expected) => {
    expect(responseRate(counts)).toBe(expected);
  });
});
