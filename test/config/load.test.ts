import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToDocument } from '../../src/config/display.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { redactConfig } from '../../src/config/redact.js';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration loading', () => {
  it('gives the safe defaults with no files and no environment', () => {
    const { config } = loadConfig({ env: {}, baseDir: dirWith({}) });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.database.path).toBe('./data/native-whatsapp.db');
    expect(config.channels.phone_number_id).toBe('sandbox');
    expect(config.channels.access_token).toBeUndefined();
    expect(config.follow_up_rules).toEqual([]);
    expect(config.responder.rules).toEqual([]);
    expect(config.quiet_hours).toBeNull();
    expect(config.scheduler.tick_every).toBe(10_000);
    expect(config.conversations.reopen_within).toBe(24 * 3_600_000);
  });

  it('layers defaults < config/default.json < CONFIG_PATH < environment', () => {
    const dir = dirWith({
      'config/default.json': JSON.stringify({
        server: { port: 9001 },
        scheduler: { tick_every: '5s' },
        log: { level: 'warn' },
      }),
      'extra.json': JSON.stringify({ server: { port: 9002 }, scheduler: { tick_every: '2s' } }),
    });
    const { config } = loadConfig({ env: { CONFIG_PATH: 'extra.json', PORT: '9003' }, baseDir: dir });
    expect(config.server.port).toBe(9003);
    expect(config.scheduler.tick_every).toBe(2000);
    expect(config.log.level).toBe('warn');
  });

  it('replaces lists instead of merging them', () => {
    const rule = (id: string) => ({ id, after: '4h', text: 'still there?' });
    const dir = dirWith({
      'config/default.json': JSON.stringify({ follow_up_rules: [rule('a'), rule('b')] }),
      'extra.json': JSON.stringify({ follow_up_rules: [rule('c')] }),
    });
    const { config } = loadConfig({ env: { CONFIG_PATH: 'extra.json' }, baseDir: dir });
    expect(config.follow_up_rules.map((r) => r.id)).toEqual(['c']);
  });

  it('lists every problem with its key, problem and source', () => {
    const dir = dirWith({
      'config/default.json': JSON.stringify({ scheduler: { tick_every: 'soon' } }),
      'extra.json': JSON.stringify({
        quiet_hours: { start: '25:00', end: '07:00', timezone: 'Mars/Olympus' },
        bogus: 1,
      }),
    });
    const problems = problemsOf(() =>
      loadConfig({ env: { CONFIG_PATH: 'extra.json', PORT: 'eighty', LOG_LEVEL: 'loud' }, baseDir: dir }),
    );
    const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
    expect(byKey['scheduler.tick_every']?.source).toBe('config/default.json');
    expect(byKey['scheduler.tick_every']?.problem).toMatch(/duration/);
    expect(byKey['quiet_hours.start']?.source).toBe('CONFIG_PATH (extra.json)');
    expect(byKey['quiet_hours.timezone']?.problem).toMatch(/IANA/);
    expect(byKey.bogus?.problem).toMatch(/not a known setting/);
    expect(byKey['server.port']?.source).toBe('environment variable PORT');
    expect(byKey['log.level']?.source).toBe('environment variable LOG_LEVEL');
    expect(problems).toHaveLength(6);
  });

  it('names the file and the position of broken JSON', () => {
    const dir = dirWith({ 'config/default.json': '{\n  "server": {\n    "port": 8080,\n  }\n}\n' });
    const [problem] = problemsOf(() => loadConfig({ env: {}, baseDir: dir }));
    expect(problem?.problem).toContain(path.join(dir, 'config/default.json'));
    expect(problem?.problem).toMatch(/line 4, column 3/);
  });

  it('refuses a CONFIG_PATH that does not exist', () => {
    const [problem] = problemsOf(() =>
      loadConfig({ env: { CONFIG_PATH: 'missing.json' }, baseDir: dirWith({}) }),
    );
    expect(problem?.source).toBe('CONFIG_PATH (missing.json)');
    expect(problem?.problem).toMatch(/cannot read/);
  });

  it('refuses a class with a pattern RE2 cannot compile or one too large for it, naming the path', () => {
    const dir = dirWith({
      'config/default.json': JSON.stringify({
        conversation_classes: [
          { name: 'ok', match: { patterns: ['order\\s+#?\\d+'] } },
          { name: 'broken', match: { patterns: ['(unclosed'] } },
          { name: 'huge', match: { patterns: ['.{0,1000}.{0,1000}x'] } },
          { name: 'badroute', route: 'robot' },
          { name: 'lookahead', match: { patterns: ['order(?=\\d)'] } },
        ],
      }),
    });
    const problems = problemsOf(() => loadConfig({ env: {}, baseDir: dir }));
    expect(problems.map((p) => p.key).sort()).toEqual([
      'conversation_classes.1.match.patterns.0',
      'conversation_classes.2.match.patterns.0',
      'conversation_classes.3.route',
      'conversation_classes.4.match.patterns.0',
    ]);
  });

  it('is frozen', () => {
    const { config } = loadConfig({ env: {}, baseDir: dirWith({}) });
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow();
  });

  it('shows durations as written and secrets redacted', () => {
    const { config } = loadConfig({
      env: { WHATSAPP_APP_SECRET: 'super-secret-value-1', WHATSAPP_ACCESS_TOKEN: 'EAAG-secret-token' },
      baseDir: dirWith({}),
    });
    const doc = redactConfig(configToDocument(config)) as Record<string, Record<string, unknown>>;
    expect(doc.scheduler?.tick_every).toBe('10s');
    expect(doc.conversations?.reopen_within).toBe('1d');
    expect(doc.channels?.app_secret).toBe('[redacted]');
    expect(doc.channels?.access_token).toBe('[redacted]');
    expect(JSON.stringify(doc)).not.toContain('super-secret-value-1');
  });
});

describe('shipped configuration files', () => {
  const root = path.resolve(import.meta.dirname, '../..');

  it('config/default.json is valid and sends nothing on its own', () => {
    const { config } = loadConfig({ env: {}, baseDir: root });
    expect(config.follow_up_rules).toEqual([]);
    expect(config.responder.rules).toEqual([]);
    expect(config.quiet_hours).toBeNull();
    expect(config.channels.access_token).toBeUndefined();
  });

  it('config/example.json is a valid full working set', () => {
    const { config } = loadConfig({ env: { CONFIG_PATH: 'config/example.json' }, baseDir: root });
    expect(config.conversation_classes.length).toBeGreaterThanOrEqual(3);
    expect(config.follow_up_rules.map((r) => r.after)).toEqual([4 * 3_600_000, 24 * 3_600_000]);
    expect(config.quiet_hours).toEqual({ start: '21:00', end: '08:00', timezone: 'Europe/Berlin' });
    expect(config.responder.rules.length).toBeGreaterThanOrEqual(2);
    // Every class a follow-up rule names exists.
    const classes = new Set(config.conversation_classes.map((c) => c.name));
    for (const r of config.follow_up_rules)
      for (const c of r.classes ?? []) expect(classes.has(c)).toBe(true);
  });

  it('the example classes match on any of their criteria, as the README describes them', () => {
    const { config } = loadConfig({ env: { CONFIG_PATH: 'config/example.json' }, baseDir: root });
    expect(config.conversation_classes.map((c) => [c.name, c.match.mode])).toEqual([
      ['complaint', 'any'],
      ['order-status', 'any'],
      ['sales-lead', 'any'],
    ]);
    // Every responder rule's class exists.
    const classes = new Set(config.conversation_classes.map((c) => c.name));
    for (const r of config.responder.rules)
      for (const c of r.classes ?? []) expect(classes.has(c)).toBe(true);
  });

  it('config/demo.json is the example with follow-ups due while you watch, and nothing else changed', () => {
    const read = (f: string) => JSON.parse(readFileSync(path.join(root, 'config', f), 'utf8'));
    const example = read('example.json');
    const demo = read('demo.json');
    expect(demo.follow_up_rules.map((r: { after: string }) => r.after)).toEqual(['20s', '2m']);
    expect(demo.quiet_hours).toBeUndefined();
    expect(demo.scheduler.tick_every).toBe('1s');
    for (const [i, r] of demo.follow_up_rules.entries()) r.after = example.follow_up_rules[i].after;
    demo.quiet_hours = example.quiet_hours;
    demo.scheduler.tick_every = example.scheduler.tick_every;
    expect(demo).toEqual(example);
    expect(() => loadConfig({ env: { CONFIG_PATH: 'config/demo.json' }, baseDir: root })).not.toThrow();
  });
});
