// The numbers the READMEs quote are generated from the committed benchmark results: README.md's
// bench:numbers block and bench/RESULTS.md must be exactly what `npm run bench:report` writes, so a
// number typed by hand, or results committed without regenerating, fail here.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('bench:report', () => {
  it('README.md and bench/RESULTS.md match the newest committed results', () => {
    let out = '';
    let code = 0;
    try {
      out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/report.ts', '--check'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      code = (err as { status?: number }).status ?? 1;
      out = String((err as { stderr?: string }).stderr ?? '');
    }
    expect(out).toContain('match the results');
    expect(code).toBe(0);
  });
});
