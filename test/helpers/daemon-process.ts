// Runs the built daemon (`node dist/main.js`) as a child process, for tests about processes:
// signals, kill -9, restarts, CLI exit codes. Polls with deadlines instead of sleeping.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ENTRY = path.join(ROOT, 'dist/main.js');

export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Starts `node dist/main.js serve` with the given environment and waits until /readyz is 200. */
export async function startDaemonProcess(
  env: Record<string, string>,
  options: { waitReady?: boolean } = {},
): Promise<DaemonProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, [ENTRY, 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d) => {
    err += d.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const proc: DaemonProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    port,
    stdout: () => out,
    stderr: () => err,
    exited,
  };
  if (options.waitReady !== false) {
    // A minute, not seconds: a restart after kill -9 recovers the queues before it is ready, and on a
    // 2-core box under a full test run next to a benchmark a 20 s wait was seen to run out (the fault
    // suite's kill-rounds). A daemon that never gets ready still fails, only later.
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`daemon exited early (${child.exitCode}): ${err}${out}`);
      const res = await fetch(`${proc.url}/readyz`).catch(() => undefined);
      return res?.status === 200;
    }, 60_000);
  }
  return proc;
}

/** Polls `check` until it returns true or the deadline passes. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs a CLI command to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string) {
  const res = spawnSync(process.execPath, [ENTRY, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    input,
    // Generous: a CLI process loads the whole daemon, which takes seconds on a loaded 2-core box (a
    // 30 s limit cut `simulate --scenario demo` short mid-run under a full test run next to a benchmark).
    timeout: 120_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Kills (SIGKILL) every daemon of the list still running and empties the list; for afterEach. */
export async function killAll(processes: DaemonProcess[]): Promise<void> {
  for (const d of processes.splice(0)) {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  }
}
