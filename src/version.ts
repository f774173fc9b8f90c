// The package version, read from package.json (found by walking up from this file, so it works from
// src/ under tsx/vitest and from dist/src/ after the build).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageJson(): { version: string; root: string } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'native-whatsapp') return { version: pkg.version ?? '0.0.0', root: dir };
    }
    dir = path.dirname(dir);
  }
  return { version: '0.0.0', root: process.cwd() };
}

const found = findPackageJson();
export const VERSION = found.version;
/** The package's root directory (holds config/default.json). */
export const PACKAGE_ROOT = found.root;
