// `native-whatsapp simulate` against the real built daemon: signed samples are accepted and show up
// as conversations, with the configured or the generated app secret; clear failures otherwise.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DaemonProcess, ROOT, runCli, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';

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

// A daemon process and CLI runs per test: seconds apiece alone, far more on a loaded box (30 s ran out
// under a full test run next to a benchmark). A time limit, not an assertion on speed.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

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
    await waitFor(async () => (await conversations(d)).length === 4, 60_000);
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
    await waitFor(async () => (await conversations(d))[0]?.queue_pressure === 2, 60_000);
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
    expect(run.stderr).toContain('Is it running (npm start)?');
    // And how to point it at a daemon on another port.
    expect(run.stderr).toContain('--url http://127.0.0.1:PORT');
  });

  it('counts in words that agree with the number', async () => {
    const env = { DATABASE_PATH: path.join(dir, 'db.sqlite'), API_ROOT_TOKEN: ROOT_TOKEN };
    daemon = await startDaemonProcess(env);
    const one = runCli(['simulate', '--scenario', 'text', '--url', daemon.url], env);
    expect(one.stdout).toContain('posting 1 signed delivery (scenario "text")');
    expect(one.stdout).toContain('it was accepted');
    const two = runCli(['simulate', '--scenario', 'statuses', '--url', daemon.url], env);
    expect(two.stdout).toContain('posting 2 signed deliveries');
    expect(two.stdout).toContain('all 2 were accepted');
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

describe('native-whatsapp simulate --scenario demo', () => {
  /** config/demo.json with its first follow-up due 2 s after the reply, to keep the test short. */
  function demoConfig(): string {
    const doc = JSON.parse(readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8'));
    doc.follow_up_rules[0].after = '2s';
    const file = path.join(dir, 'demo.json');
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  it('creates the agent, installs the extension, and every example class does what it says', async () => {
    const env = { DATABASE_PATH: path.join(dir, 'db.sqlite'), CONFIG_PATH: demoConfig() };
    daemon = await startDaemonProcess(env);
    const run = runCli(['simulate', '--scenario', 'demo', '--url', daemon.url], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('created agent 1 ("Demo shop") for channel sandbox');
    expect(run.stdout).toContain('native-whatsapp is active on agent 1');
    expect(run.stdout).toMatch(
      /Mia\s+order-status → ai\s+auto-reply: "Thanks for your message about your order/,
    );
    expect(run.stdout).toMatch(/Tom\s+general → ai\s+auto-reply: "We are open Monday to Saturday/);
    expect(run.stdout).toMatch(/Ana\s+complaint → human\s+escalated \(keyword "refund"/);
    expect(run.stdout).toMatch(
      /Leo\s+sales-lead → hybrid\s+draft for a human \(pending\): "Thanks for your interest/,
    );
    expect(run.stdout).toMatch(/Eva\s+general → \w+\s+opted out/);
    expect(run.stdout).toContain('follow-up sent to Mia: "Just checking in');
    // The root token it made for itself is revoked again.
    const db = new Database(env.DATABASE_PATH, { readonly: true });
    const tokens = db.prepare("select revoked_at from api_tokens where name like 'simulate-demo%'").all();
    db.close();
    expect(tokens).toEqual([{ revoked_at: expect.any(Number) }]);
    // A second run tells the same story with new customers, and reuses the agent.
    const again = runCli(['simulate', '--scenario', 'demo', '--url', daemon.url], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('agent 1 already owns channel sandbox');
    expect(again.stdout).toContain('draft for a human (pending)');
  }, 240_000);

  it('with config/example.json it says when the follow-up is due instead of waiting hours', async () => {
    const env = { DATABASE_PATH: path.join(dir, 'db.sqlite'), CONFIG_PATH: 'config/example.json' };
    daemon = await startDaemonProcess(env);
    const run = runCli(['simulate', '--scenario', 'demo', '--url', daemon.url], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /follow-up: gentle-check-in for Mia is due at \S+ \(its rule's "after"\), too late to wait/,
    );
  }, 240_000);

  it('says why nothing replied when the configuration has no rules (the default)', async () => {
    const env = { DATABASE_PATH: path.join(dir, 'db.sqlite') };
    daemon = await startDaemonProcess(env);
    const run = runCli(['simulate', '--scenario', 'demo', '--url', daemon.url], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Mia .*no (auto-reply|draft): /);
  }, 240_000);

  it('refuses to run without the daemon database, naming the path', () => {
    const file = path.join(dir, 'elsewhere', 'db.sqlite');
    const run = runCli(['simulate', '--scenario', 'demo', '--url', 'http://127.0.0.1:9'], {
      DATABASE_PATH: file,
      WHATSAPP_APP_SECRET: 'simulate_secret_0123456789',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no database at ${file}`);
    expect(existsSync(file)).toBe(false);
  });
});
