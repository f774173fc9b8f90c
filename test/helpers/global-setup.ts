// Builds dist/ once before the suite: process-level tests (signals, kill -9, CLI exit codes) run the
// real built daemon, `node dist/main.js`, as an operator would.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
