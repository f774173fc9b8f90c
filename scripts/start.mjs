// `npm start`: build when the sources are newer than dist/, then run the daemon in this process's
// place (signals reach it directly, so Ctrl-C and SIGTERM shut it down gracefully).
import { spawnSync } from 'node:child_process';
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

const entry = 'dist/main.js';
const stale = !existsSync(entry) || Math.max(newest('src'), newest('migrations')) > statSync(entry).mtimeMs;
if (stale) {
  process.stderr.write('native-whatsapp: building (npm run build)...\n');
  const built = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
await import(path.resolve(entry));
