// tsc keeps the source layout (dist/src/, dist/migrations/); the CLI entry SPEC §1 names is
// dist/main.js, so the build writes this one-line forwarder.
import { chmodSync, writeFileSync } from 'node:fs';

writeFileSync('dist/main.js', "#!/usr/bin/env node\nimport './src/main.js';\n");
chmodSync('dist/main.js', 0o755);
