// The CLI as an operator runs it: the built dist/main.js in a child process, exit codes and output.
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/daemon-process.js';

// Each test starts the built CLI one or more times: seconds apiece on a loaded box (test timeouts of
// 30 s ran out there with 6 help commands in a row). A time limit, not an assertion on speed.
vi.setConfig({ testTimeout: 180_000 });

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'nwa-cli-'));
}

describe('CLI usage', () => {
  it('prints help for the program and for each command with exit 0', () => {
    const main = runCli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/Usage: native-whatsapp/);
    for (const cmd of ['serve', 'migrate', 'check-config', 'token', 'backup']) {
      const res = runCli([cmd, '--help']);
      expect(res.code, cmd).toBe(0);
      expect(res.stdout, cmd).toMatch(new RegExp(`Usage: native-whatsapp ${cmd}`));
    }
  });

  it('answers an unknown command with usage and exit 2', () => {
    const res = runCli(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown command "frobnicate"/);
    expect(res.stderr).toMatch(/Usage:/);
  });

  it('answers an unknown flag with usage and exit 2', () => {
    const res = runCli(['migrate', '--frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/frobnicate/);
    expect(res.stderr).toMatch(/Usage: native-whatsapp migrate/);
  });
});

describe('check-config', () => {
  it('prints the effective configuration with secrets redacted', () => {
    const res = runCli(['check-config'], {
      DATABASE_PATH: path.join(tempDir(), 'x.db'),
      WHATSAPP_APP_SECRET: 'app-secret-never-printed',
      WHATSAPP_ACCESS_TOKEN: 'EAAG-access-token-never-printed',
    });
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.channels.app_secret).toBe('[redacted]');
    expect(res.stdout + res.stderr).not.toContain('never-printed');
    expect(doc.scheduler.tick_every).toBe('10s');
  });

  it('exits 2 listing every problem with key and source', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'bad.json'),
      JSON.stringify({ scheduler: { tick_every: 'often' }, nope: true }),
    );
    const res = runCli(['check-config'], { CONFIG_PATH: path.join(dir, 'bad.json'), PORT: '99999' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/scheduler\.tick_every: .*duration.* \(from CONFIG_PATH/);
    expect(res.stderr).toMatch(/nope: is not a known setting/);
    expect(res.stderr).toMatch(/server\.port: .* \(from environment variable PORT\)/);
  });

  it('exits 2 naming the file and position of a config file that is not JSON', () => {
    const dir = tempDir();
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{"server": {"port": 80,}}');
    const res = runCli(['check-config'], { CONFIG_PATH: file });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toMatch(/line 1, column \d+/);
  });

  it('refuses --show-secrets to a pipe unless forced, then prints generated secrets', async () => {
    const db = path.join(tempDir(), 's.db');
    const { startDaemonProcess } = await import('../helpers/daemon-process.js');
    const daemon = await startDaemonProcess({ DATABASE_PATH: db });
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    const refused = runCli(['check-config', '--show-secrets'], { DATABASE_PATH: db });
    expect(refused.code).toBe(2);
    const shown = runCli(['check-config', '--show-secrets', '--force'], { DATABASE_PATH: db });
    expect(shown.code).toBe(0);
    const doc = JSON.parse(shown.stdout);
    expect(doc.channels.app_secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(doc.channels.verify_token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});

describe('check-config layers', () => {
  it('includes the stored management layer and says which layer each value came from', async () => {
    const db = path.join(tempDir(), 'l.db');
    const root = 'root-token-for-check-config-0123';
    const { startDaemonProcess } = await import('../helpers/daemon-process.js');
    const daemon = await startDaemonProcess({ DATABASE_PATH: db, API_ROOT_TOKEN: root });
    const put = await fetch(`${daemon.url}/api/extensions/native-whatsapp/management/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${root}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 0, runtime: { automation_mode: 'priority' } }),
    });
    expect(put.status).toBe(200);
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    const env = { DATABASE_PATH: db, CONFIG_PATH: 'config/example.json', LOG_LEVEL: 'debug' };
    // The example file says priority too; a stored value on another key shows the layer better.
    const res = runCli(['check-config'], { ...env, CONFIG_PATH: '' });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).runtime.automation_mode).toBe('priority');
    expect(res.stderr).toContain(
      'layers, later wins: built-in defaults < config/default.json < management API (version 1) < environment',
    );
    expect(res.stderr).toMatch(/^ {2}runtime\.automation_mode +management API \(version 1\)$/m);
    expect(res.stderr).toMatch(/^ {2}database\.path +environment variable DATABASE_PATH$/m);
    expect(res.stderr).toMatch(/^ {2}log\.level +environment variable LOG_LEVEL$/m);

    const files = runCli(['check-config', '--files-only'], { ...env, CONFIG_PATH: '' });
    expect(files.code).toBe(0);
    expect(JSON.parse(files.stdout).runtime.automation_mode).toBe('assisted');
    expect(files.stderr).toContain('--files-only: the management layer stored in the database is left out');
    expect(files.stderr).not.toContain('management API (version');

    // Files changed since the override was stored: the daemon would let the files win, and so does this.
    const changed = runCli(['check-config'], env);
    expect(changed.stderr).toContain('management config version 1 is set aside: the files changed');
    expect(changed.stderr).toMatch(/^ {2}conversation_classes +CONFIG_PATH \(config\/example\.json\)$/m);
  });
});

describe('migrate', () => {
  it('applies migrations once, then reports them current', () => {
    const env = { DATABASE_PATH: path.join(tempDir(), 'm.db') };
    const first = runCli(['migrate'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/migrations applied: 0001_foundation/);
    const second = runCli(['migrate'], env);
    expect(second.stdout).toMatch(/already current/);
  });

  it('exits 1 with a sentence naming the path when the database directory cannot be made', () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const res = runCli(['migrate'], { DATABASE_PATH: path.join(blocker, 'sub', 'db.sqlite') });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(path.join(blocker, 'sub'));
    expect(res.stderr).toMatch(/cannot create the database directory/);
  });
});

describe('token', () => {
  it('creates a token printed once, lists it without its value, and revokes it', () => {
    const env = { DATABASE_PATH: path.join(tempDir(), 't.db') };
    expect(runCli(['migrate'], env).code).toBe(0);
    const created = runCli(['token', 'create', '--tier', 'standard', '--name', 'dashboard'], env);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^nwa_[A-Za-z0-9_-]{43}$/);
    const listed = runCli(['token', 'list', '--json'], env);
    expect(listed.stdout).not.toContain(token);
    const items = JSON.parse(listed.stdout);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: 'dashboard', tier: 'standard', revoked_at: null });
    const revoked = runCli(['token', 'revoke', items[0].id], env);
    expect(revoked.code).toBe(0);
    const again = runCli(['token', 'revoke', items[0].id], env);
    expect(again.code).toBe(1);
    expect(JSON.parse(runCli(['token', 'list', '--json'], env).stdout)[0].revoked_at).not.toBeNull();
  });

  it('never creates a database: run from the wrong place it says where it looked', () => {
    const file = path.join(tempDir(), 'elsewhere', 'native-whatsapp.db');
    for (const args of [
      ['token', 'list'],
      ['token', 'create', '--tier', 'root'],
      ['token', 'revoke', 'x'],
    ]) {
      const res = runCli(args, { DATABASE_PATH: file });
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr).toContain(`no database at ${file}; this command does not create one`);
      expect(res.stderr).toContain('DATABASE_PATH');
      expect(res.stdout).not.toMatch(/nwa_/);
    }
    expect(existsSync(path.dirname(file))).toBe(false);
    // Neither do backup or check-config --show-secrets.
    expect(runCli(['backup', path.join(tempDir(), 'b.db')], { DATABASE_PATH: file }).stderr).toContain(
      `no database at ${file}`,
    );
    runCli(['check-config', '--show-secrets', '--force'], { DATABASE_PATH: file });
    expect(existsSync(path.dirname(file))).toBe(false);
  });

  it('refuses a missing or wrong tier with exit 2', () => {
    const env = { DATABASE_PATH: path.join(tempDir(), 't.db') };
    expect(runCli(['token', 'create'], env).code).toBe(2);
    expect(runCli(['token', 'create', '--tier', 'admin'], env).code).toBe(2);
    expect(runCli(['token', 'explode'], env).code).toBe(2);
  });
});

describe('backup', () => {
  it('writes an online copy that can be restored and read', () => {
    const dir = tempDir();
    const env = { DATABASE_PATH: path.join(dir, 'live.db') };
    runCli(['migrate'], env);
    runCli(['token', 'create', '--tier', 'root', '--name', 'before-backup'], env);
    const target = path.join(dir, 'copy.db');
    const res = runCli(['backup', target], env);
    expect(res.code).toBe(0);
    // Restore: copy the backup over a fresh path and open it as the daemon's database.
    const restored = path.join(dir, 'restored.db');
    copyFileSync(target, restored);
    const listed = runCli(['token', 'list', '--json'], { DATABASE_PATH: restored });
    expect(JSON.parse(listed.stdout).map((t: { name: string }) => t.name)).toEqual(['before-backup']);
    const db = new Database(restored, { readonly: true });
    expect(db.prepare('pragma integrity_check').pluck().get()).toBe('ok');
    db.close();
  });

  it('refuses to overwrite without --force', () => {
    const dir = tempDir();
    const env = { DATABASE_PATH: path.join(dir, 'live.db') };
    runCli(['migrate'], env);
    const target = path.join(dir, 'exists.db');
    writeFileSync(target, 'x');
    expect(runCli(['backup', target], env).code).toBe(1);
    expect(runCli(['backup', target, '--force'], env).code).toBe(0);
  });

  it('on PostgreSQL says to use pg_dump, exits 2, writes nothing and never prints the password', () => {
    const dir = tempDir();
    const target = path.join(dir, 'copy.dump');
    const res = runCli(['backup', target], { DATABASE_URL: 'postgres://nw:s3cret-pw@127.0.0.1:1/nw' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('pg_dump --format=custom');
    expect(res.stderr).not.toContain('s3cret-pw');
    expect(existsSync(target)).toBe(false);
  });
});
