// SPEC §10: one daemon per SQLite file. A second `serve` on the same database (a systemd unit plus a
// hand-run `npm start`) exits 1 naming the file and the running daemon, touching nothing; the lock
// dies with its holder, so a daemon killed with kill -9 never keeps the next start out.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, killAll, startDaemonProcess } from '../helpers/daemon-process.js';

let dir: string;
const daemons: DaemonProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-single-'));
});
afterEach(async () => {
  await killAll(daemons);
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  DATABASE_PATH: path.join(dir, 'shared.db'),
  WHATSAPP_APP_SECRET: 'single_instance_secret_0123456789',
  API_ROOT_TOKEN: 'single-instance-root-token-0123456789',
});

describe('one daemon per SQLite file', () => {
  it('a second daemon on the same file exits 1 naming the file and the first one', async () => {
    const first = await startDaemonProcess(env());
    daemons.push(first);
    const second = await startDaemonProcess(env(), { waitReady: false });
    daemons.push(second);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(path.join(dir, 'shared.db'));
    expect(second.stderr()).toContain(`pid ${first.child.pid}`);
    expect(second.stderr()).toMatch(/another native-whatsapp daemon/);
    // The first one never noticed.
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    expect(statSync(path.join(dir, 'shared.db.lock')).mode & 0o777).toBe(0o600);
  });

  it('after kill -9 of the holder the next daemon starts', async () => {
    const first = await startDaemonProcess(env());
    first.child.kill('SIGKILL');
    await first.exited;
    const next = await startDaemonProcess(env());
    daemons.push(next);
    expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
  });

  it('after a graceful stop the next daemon starts', async () => {
    const first = await startDaemonProcess(env());
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const next = await startDaemonProcess(env());
    daemons.push(next);
    expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
  });
});
