// The fake Cloud API (bench/lib/fake-graph-server.ts) in a child process, so the arrival times it records
// are not distorted by the daemon sharing its event loop. Used by the outbound and campaign benchmarks.
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export function startGraphProcess(): Promise<{
  url: string;
  times(): Promise<number[]>;
  close(): Promise<void>;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/lib/fake-graph-server.ts')],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let buffer = '';
    let waiting: ((line: string) => void) | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const ready = /^ready (\S+)/.exec(line);
        if (ready) {
          resolve({
            url: ready[1] as string,
            times: () =>
              new Promise((done) => {
                waiting = (l) => done(JSON.parse(l) as number[]);
                child.stdin.write('dump\n');
              }),
            close: () =>
              new Promise((done) => {
                child.once('exit', () => done());
                child.stdin.write('exit\n');
              }),
          });
        } else if (waiting) {
          const w = waiting;
          waiting = undefined;
          w(line);
        }
        nl = buffer.indexOf('\n');
      }
    });
    child.once('exit', (code) => reject(new Error(`fake Graph API exited ${code}`)));
  });
}
