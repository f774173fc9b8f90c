// A description of the machine a benchmark ran on, stored with its numbers: figures from another
// machine are not comparable, ratios to a baseline from the same run mostly are.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import Database from 'better-sqlite3';
import { wrkVersion } from './load-generator.js';

export interface Machine {
  cpu_model: string;
  cores: number;
  memory_bytes: number;
  os: string;
  node: string;
  sqlite: string;
  better_sqlite3: string;
  load_generator: string;
  git_commit: string | null;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory_bytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    sqlite,
    better_sqlite3: packageVersion('better-sqlite3'),
    load_generator: `${wrkVersion() ?? 'no wrk'}; node socket client (open loop)`,
    git_commit: gitCommit(),
  };
}

function packageVersion(name: string): string {
  try {
    const out = execFileSync(process.execPath, ['-p', `require('${name}/package.json').version`], {
      encoding: 'utf8',
    });
    return out.trim();
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? sha : `${sha}+dirty`;
  } catch {
    return null;
  }
}

export function formatMachine(m: Machine): string {
  const gib = (m.memory_bytes / 1024 ** 3).toFixed(1);
  return `${m.cpu_model}, ${m.cores} cores, ${gib} GiB, ${m.os}, node ${m.node}, SQLite ${m.sqlite}, load: ${m.load_generator}`;
}
