// The README's first-hour paths stay true: the "see it reply" quick start is three commands that
// exist (the demo scenario, config/demo.json), the quick start says how to change the port, and the
// systemd section covers TLS in front (Caddy and nginx), the Node.js version and how to get it on
// Debian, build tools, CONFIG_PATH and check-config --show-secrets with the environment file.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/webhook/sample-deliveries.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function section(title: string): string {
  const start = README.indexOf(title);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const next = README.indexOf('\n## ', start + title.length);
  return README.slice(start, next === -1 ? undefined : next);
}

describe('README: the first hour', () => {
  it('"See it reply" is at most three commands from a fresh clone, and each exists', () => {
    const s = section('### See it reply');
    const block = /```sh\n([\s\S]*?)```/.exec(s)?.[1] ?? '';
    const commands = block.split('\n').filter((l) => l.trim() !== '');
    expect(commands).toEqual([
      'npm install',
      'CONFIG_PATH=config/demo.json npm start',
      expect.stringMatching(/^npx native-whatsapp simulate --scenario demo\b/),
    ]);
    expect(existsSync(path.join(ROOT, 'config/demo.json'))).toBe(true);
    expect(SCENARIOS.demo).toBeDefined();
    // What the user will see: every kind of outcome is shown.
    for (const seen of [
      'auto-reply:',
      'escalated',
      'draft for a human',
      'opted out',
      'follow-up sent to Mia',
    ]) {
      expect(s).toContain(seen);
    }
  });

  it('says how to change the port', () => {
    expect(README.slice(0, README.indexOf('### See it reply'))).toMatch(/PORT=8081 npm start/);
    expect(README).toContain('--url http://127.0.0.1:8081');
  });

  it('the systemd section covers TLS, Node.js on Debian, build tools, CONFIG_PATH and check-config', () => {
    const s = section('## Running under systemd');
    expect(s).toContain('```caddyfile');
    expect(s).toContain('reverse_proxy 127.0.0.1:8080');
    expect(s).toContain('```nginx');
    expect(s).toContain('proxy_pass http://127.0.0.1:8080');
    const major = /(\d+)/.exec(pkg.engines.node)?.[1];
    expect(s).toContain(`Node.js ${major} or later`);
    expect(s).toMatch(/Debian 12.*NodeSource|NodeSource[\s\S]*Debian 12/);
    expect(s).toContain('build-essential python3');
    expect(s).toContain('CONFIG_PATH=/etc/native-whatsapp/config.json');
    expect(s).toMatch(/EnvironmentFile=\/etc\/native-whatsapp\/env[\s\S]*check-config --show-secrets/);
    const unit = readFileSync(path.join(ROOT, 'systemd/native-whatsapp.service'), 'utf8');
    expect(unit).toContain('EnvironmentFile=-/etc/native-whatsapp/env');
    expect(unit).toContain('CONFIG_PATH');
  });

  it('npm start runs the daemon without a shell in between (signals reach it)', () => {
    expect(pkg.scripts.start).toBe('exec node scripts/start.mjs');
  });
});
