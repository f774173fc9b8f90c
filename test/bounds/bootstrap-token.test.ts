// SPEC §9a / issue 12: a short API_ROOT_TOKEN or API_STANDARD_TOKEN is a configuration error (exit 2)
// with a readable message, not silently replaced by a generated token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/daemon-process.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bootstrap tokens', () => {
  it.each(['API_ROOT_TOKEN', 'API_STANDARD_TOKEN'])(
    'a %s under 16 characters exits 2 and says why',
    (name) => {
      dir = mkdtempSync(path.join(tmpdir(), 'nwa-token-'));
      const res = runCli(['serve'], {
        [name]: 'short',
        DATABASE_PATH: path.join(dir, 'x.db'),
        PORT: '0',
      });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`${name}: is shorter than 16 characters`);
      expect(res.stderr).not.toContain('[redacted]');
      expect(res.stdout).not.toContain('listening');
    },
  );

  it('check-config reports it too', () => {
    const res = runCli(['check-config'], { API_ROOT_TOKEN: 'fifteen-chars!!' });
    expect(res.code).toBe(2);
    expect(res.stderr + res.stdout).toContain('API_ROOT_TOKEN: is shorter than 16 characters');
  });
});
