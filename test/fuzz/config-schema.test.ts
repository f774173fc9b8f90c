// Fuzzing the configuration: arbitrary documents, file texts and environment values either give a
// config or a ConfigError listing problems (key, problem, source), never another error, never a
// secret in the message; and an accepted config shown as a document (check-config, management GET)
// reads back as the same config.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { configToDocument } from '../../src/config/display.js';
import { ConfigError, ENV_KEYS, loadConfig, resolveConfig } from '../../src/config/load.js';
import { SECRET_PATHS } from '../../src/config/schema.js';
import { configDocuments, type Doc, edgy } from './config-arbitraries.js';
import { fuzzParams, fuzzTimeout } from './fuzz-runs.js';

/** A marker that must never show up in an error message when it is a secret's value. */
const secretMarker = fc
  .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 4, maxLength: 20 })
  .map((h) => `S3CRET-${h}`);

function withSecrets(doc: Doc, marker: string, which: number): Doc {
  const copy = structuredClone(doc);
  const dotted = SECRET_PATHS[which % SECRET_PATHS.length] as string;
  const keys = dotted.split('.');
  let cur = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object' || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  // Sometimes too short to be valid, so the secret's own problem is reported.
  cur[keys.at(-1) as string] = which % 2 === 0 ? marker : marker.slice(0, 6);
  return copy;
}

function expectOnlyConfigErrors(fn: () => unknown, secret?: string): unknown {
  try {
    return fn();
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(typeof p.key).toBe('string');
      expect(p.problem).toEqual(expect.any(String));
      expect(p.problem.length).toBeGreaterThan(0);
      expect(p.source).toEqual(expect.any(String));
    }
    if (secret) {
      expect((err as Error).message).not.toContain(secret);
      expect(JSON.stringify(problems)).not.toContain(secret);
    }
    return undefined;
  }
}

describe('fuzz: configuration schema', () => {
  it(
    'a document gives a config or a ConfigError, and an accepted config reads back as itself',
    () => {
      fc.assert(
        fc.property(configDocuments, secretMarker, fc.nat(), (doc, marker, which) => {
          const document = withSecrets(doc, marker, which);
          const loaded = expectOnlyConfigErrors(() => resolveConfig([{ name: 'fuzz', document }]), marker) as
            | ReturnType<typeof resolveConfig>
            | undefined;
          if (!loaded) return;
          expect(Object.isFrozen(loaded.config)).toBe(true);
          const shown = configToDocument(loaded.config);
          const again = expectOnlyConfigErrors(() => resolveConfig([{ name: 'shown', document: shown }])) as
            | ReturnType<typeof resolveConfig>
            | undefined;
          expect(again?.config, `shown as ${JSON.stringify(shown).slice(0, 2000)}`).toEqual(loaded.config);
        }),
        fuzzParams(),
      );
    },
    fuzzTimeout(2),
  );

  describe('files and environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nwa-fuzz-config-'));
    mkdirSync(path.join(dir, 'config'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const fileText = fc.oneof(
      configDocuments.map((d) => JSON.stringify(d)),
      configDocuments
        .map((d) => JSON.stringify(d, null, 2))
        .chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))),
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom('', '\uFEFF{}', 'null', '[]', '{"server": {"port": "8080"}}'),
    );
    const envValue = fc.oneof(
      edgy.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
      fc.string(),
    );
    const env: fc.Arbitrary<Record<string, string>> = fc.dictionary(
      fc.constantFrom(...Object.keys(ENV_KEYS)),
      envValue as fc.Arbitrary<string>,
      { maxKeys: 5 },
    );

    it(
      'loadConfig with any default.json, CONFIG_PATH file and environment throws only ConfigError',
      () => {
        fc.assert(
          fc.property(
            fc.option(fileText, { nil: undefined }),
            fc.option(fileText, { nil: undefined }),
            env,
            (defaultText, extraText, vars) => {
              const defaultFile = path.join(dir, 'config', 'default.json');
              rmSync(defaultFile, { force: true });
              if (defaultText !== undefined) writeFileSync(defaultFile, defaultText);
              const environment: Record<string, string> = { ...vars };
              if (extraText !== undefined) {
                writeFileSync(path.join(dir, 'extra.json'), extraText);
                environment.CONFIG_PATH = 'extra.json';
              }
              const secret = vars.WHATSAPP_APP_SECRET;
              expectOnlyConfigErrors(
                () => loadConfig({ env: environment, baseDir: dir }),
                secret && secret.length >= 12 ? secret : undefined,
              );
            },
          ),
          fuzzParams(),
        );
      },
      fuzzTimeout(2),
    );
  });
});
