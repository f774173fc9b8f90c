// Starts a server under test in its own process and watches its memory. Readiness is polled with a
// deadline; peak memory comes from the kernel's high-water mark (VmHWM), sampled RSS shows whether
// memory stays flat while the load runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Resident memory right now, bytes (undefined off Linux). */
  rss(): number | undefined;
  /** Highest resident memory since start, bytes. */
  peakRss(): number | undefined;
  /** Records RSS every `everyMs` until stopped; returns the samples. */
  sampleRss(everyMs: number): () => number[];
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Path polled until it answers with `readyStatus` (default: any status below 500). */
  readyPath: string;
  readyStatus?: number;
  port: number;
  /** Where the server's stdout and stderr go (a file, so a chatty server costs the bench nothing). */
  logFile: string;
  timeoutMs?: number;
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

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const fd = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const output = () => {
    try {
      return readFileSync(options.logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${options.name} exited early (${child.exitCode}): ${output()}`);
    const res = await fetch(url + options.readyPath).catch(() => undefined);
    if (res && (options.readyStatus === undefined ? res.status < 500 : res.status === options.readyStatus))
      break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${options.name} did not become ready within ${options.timeoutMs ?? 30_000} ms: ${output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid as number;
  return {
    name: options.name,
    url,
    pid,
    rss: () => procStatus(pid, 'VmRSS'),
    peakRss: () => procStatus(pid, 'VmHWM'),
    sampleRss(everyMs) {
      const samples: number[] = [];
      const timer = setInterval(() => {
        const v = procStatus(pid, 'VmRSS');
        if (v !== undefined) samples.push(v);
      }, everyMs);
      return () => {
        clearInterval(timer);
        return samples;
      };
    },
    output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
