import { describe, expect, it } from 'vitest';
import { CURRENT_SCHEMA_VERSION } from '../../src/config/schema.js';
import { CONFIG_MIGRATIONS, migrateConfigDocument } from '../../src/config/schema-migrations.js';
import { AppError } from '../../src/lib/app-error.js';

// A synthetic history: v1 named the follow-up list `followups`, v2 renamed it, v3 split quiet hours.
const synthetic = {
  current: 3,
  steps: {
    1: ({ followups, ...rest }: Record<string, unknown>) => ({ ...rest, follow_up_rules: followups }),
    2: ({ quiet, ...rest }: Record<string, unknown>) => {
      const q = quiet as string | undefined;
      if (q === undefined) return rest;
      const [start, end] = q.split('-');
      return { ...rest, quiet_hours: { start, end, timezone: 'UTC' } };
    },
  },
};

describe('migrateConfigDocument', () => {
  it('applies each step from the stored version to the current one, in order', () => {
    const v1 = { schema_version: 1, followups: [{ id: 'a', after: '4h', text: 'hi' }], quiet: '21:00-08:00' };
    expect(migrateConfigDocument(v1, 1, synthetic)).toEqual({
      follow_up_rules: [{ id: 'a', after: '4h', text: 'hi' }],
      quiet_hours: { start: '21:00', end: '08:00', timezone: 'UTC' },
    });
  });

  it('starts at the stored version, not at the first one', () => {
    expect(migrateConfigDocument({ quiet: '01:00-02:00', follow_up_rules: [] }, 2, synthetic)).toEqual({
      follow_up_rules: [],
      quiet_hours: { start: '01:00', end: '02:00', timezone: 'UTC' },
    });
  });

  it('leaves a current document as it is, without its schema_version key', () => {
    const doc = { schema_version: 3, follow_up_rules: [] };
    expect(migrateConfigDocument(doc, 3, synthetic)).toEqual({ follow_up_rules: [] });
    expect(doc.schema_version).toBe(3);
  });

  it.each([
    [4, /newer than this daemon/],
    [0, /not a schema version/],
    [1.5, /not a schema version/],
  ])('refuses schema_version %s', (from, message) => {
    expect(() => migrateConfigDocument({}, from, synthetic)).toThrow(message);
  });

  it('refuses a version with no step forward', () => {
    expect(() => migrateConfigDocument({}, 1, { current: 2, steps: {} })).toThrow(AppError);
  });

  it('has a step for every version below the current one', () => {
    for (let v = 1; v < CURRENT_SCHEMA_VERSION; v++) expect(CONFIG_MIGRATIONS[v]).toBeTypeOf('function');
    expect(migrateConfigDocument({ follow_up_rules: [] }, CURRENT_SCHEMA_VERSION)).toEqual({
      follow_up_rules: [],
    });
  });
});
