// `npm start` as a user runs it: the signals npm gets reach the daemon, which stops gracefully, and
// npm exits with the daemon's code; nothing is left serving. Real processes (npm, node), polled
// with deadlines.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT, waitFor } from '../helpers/daemon-process.js';

interface NpmStart {
  npm: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | string>;
}

async function npmStart(): Promise<NpmStart> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-npm-start-'));
  // detached: npm leads its own process group, as in a terminal (Ctrl-C signals the whole group).
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      PORT: String(port),
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout?.on('data', (d) => {
    out += d.toString();
  });
  npm.stderr?.on('data', (d) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    npm.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (npm.exitCode !== null) throw new Error(`npm start exited early: ${out}`);
    return (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200;
  }, 60_000);
  return { npm, url, output: () => out, exited };
}

/** True once nothing answers on the daemon's port any more. */
async function gone(url: string): Promise<boolean> {
  return (await fetch(`${url}/healthz`).catch(() => undefined)) === undefined;
}

describe('npm start', () => {
  it('SIGTERM to the npm process stops the daemon gracefully; npm exits 0', async () => {
    const s = await npmStart();
    s.npm.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    await waitFor(() => gone(s.url), 10_000);
    expect(s.output()).toContain('daemon.stopped');
  }, 90_000);

  it('Ctrl-C (SIGINT to the whole process group) exits 0 after a graceful stop', async () => {
    const s = await npmStart();
    process.kill(-(s.npm.pid as number), 'SIGINT');
    expect(await s.exited).toBe(0);
    await waitFor(() => gone(s.url), 10_000);
    expect(s.output()).toContain('daemon.stopped');
    expect(s.output()).not.toContain('daemon.forced_exit');
  }, 90_000);

  it('the daemon stops when npm is killed without a chance to forward anything', async () => {
    const s = await npmStart();
    s.npm.kill('SIGKILL');
    await s.exited;
    await waitFor(() => gone(s.url), 15_000);
  }, 90_000);
});
