// `native-whatsapp simulate` against the real built daemon: signed samples are accepted and show up
// as conversations, with the configured or the generated app secret; clear failures otherwise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, runCli, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';

const ROOT_TOKEN = 'nwa_simulate_test_root_token_0123456789';
let dir: string;
let daemon: DaemonProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-sim-'));
});
afterEach(async () => {
  if (daemon && daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  }
  daemon = undefined;
  rmSync(dir, { recursive: true, force: true });
});

interface Page {
  items: { wa_id: string | null; user_id: string | null; queue_pressure: number; conversation_id: string }[];
}

async function conversations(d: DaemonProcess): Promise<Page['items']> {
  const res = await fetch(`${d.url}/api/extensions/native-whatsapp/runtime/conversations`, {
    headers: { authorization: `Bearer ${ROOT_TOKEN}` },
  });
  return ((await res.json()) as Page).items;
}

describe('native-whatsapp simulate', () => {
  it('posts the default scenario with the configured secret; every delivery is accepted and processed', async () => {
    const env = {
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      WHATSAPP_APP_SECRET: 'simulate_secret_0123456789',
      API_ROOT_TOKEN: ROOT_TOKEN,
    };
    daemon = await startDaemonProcess(env);
    const run = runCli(['simulate'], { ...env, PORT: String(daemon.port) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /^\s+\d+\. /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.every((l) => l.endsWith('→ 200'))).toBe(true);
    expect(run.stdout).toContain('duplicate');
    const d = daemon;
    await waitFor(async () => (await conversations(d)).length === 4);
    const items = await conversations(d);
    expect(items.map((i) => i.wa_id ?? i.user_id).sort()).toEqual(
      ['34600000003', '4917000000001', '5521900000005', 'ES.8812736450019283746'].sort(),
    );
    // Jonas: the duplicate delivery had no second effect (text + location waiting; the reaction is passive).
    const jonas = items.find((i) => i.wa_id === '4917000000001');
    expect(jonas?.queue_pressure).toBe(2);
  });

  it('signs with the secret the daemon generated when none is configured, and continues the same customers', async () => {
    const env = { DATABASE_PATH: path.join(dir, 'db.sqlite'), API_ROOT_TOKEN: ROOT_TOKEN };
    daemon = await startDaemonProcess(env);
    const first = runCli(['simulate', '--scenario', 'text', '--url', daemon.url], env);
    expect(first.code).toBe(0);
    const second = runCli(['simulate', '--scenario', 'text', '--url', daemon.url], env);
    expect(second.code).toBe(0);
    const d = daemon;
    await waitFor(async () => (await conversations(d))[0]?.queue_pressure === 2);
    expect(await conversations(d)).toHaveLength(1);
  });

  it('reports 401 when the daemon uses another secret, and exits 1', async () => {
    const env = {
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      WHATSAPP_APP_SECRET: 'daemon_secret_0123456789',
    };
    daemon = await startDaemonProcess(env);
    const run = runCli(['simulate', '--scenario', 'text', '--url', daemon.url], {
      ...env,
      WHATSAPP_APP_SECRET: 'another_secret_0123456789',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('→ 401');
    expect(run.stdout).toContain('another app secret');
  });

  it('exits 1 with a hint when no daemon listens', () => {
    const run = runCli(['simulate', '--url', 'http://127.0.0.1:9'], {
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      WHATSAPP_APP_SECRET: 'simulate_secret_0123456789',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is the daemon running');
  });

  it('exits 1 when there is no secret to sign with', () => {
    const run = runCli(['simulate'], { DATABASE_PATH: path.join(dir, 'none.sqlite') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no app secret');
  });

  it('exits 2 for an unknown scenario and lists the scenarios with --list', () => {
    const bad = runCli(['simulate', '--scenario', 'nope'], { DATABASE_PATH: path.join(dir, 'db.sqlite') });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown scenario "nope"');
    const list = runCli(['simulate', '--list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^default\t/m);
    expect(runCli(['simulate', '--help']).stdout).toContain('--scenario NAME');
  });
});
