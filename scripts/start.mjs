// `npm start`: build when the sources are newer than dist/, then run the daemon in this process.
// package.json runs it with `exec`, so no shell sits between npm and the daemon: the SIGTERM or
// SIGINT npm forwards reaches the daemon, which stops gracefully and exits with its own code, and npm
// exits with that code. Should the wrapper that started us die without forwarding anything (kill -9
// of npm), the daemon notices its parent changed and stops too, instead of serving on as an orphan.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Runs the build as a child; a signal meanwhile stops the build too (none is left running). */
function build() {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(signal ? 1 : (code ?? 1));
    });
  });
}

const entry = 'dist/main.js';
const stale = !existsSync(entry) || Math.max(newest('src'), newest('migrations')) > statSync(entry).mtimeMs;
if (stale) {
  process.stderr.write('native-whatsapp: building (npm run build)...\n');
  const code = await build();
  if (code !== 0) process.exit(code);
}

const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  process.kill(process.pid, 'SIGTERM');
}, 1000);
orphaned.unref();

await import(path.resolve(entry));
