#!/usr/bin/env node
// The CLI entry: argv → one command in cli/. The only place that exits the process.
import { backupCommand } from './cli/backup.js';
import { checkConfigCommand } from './cli/check-config.js';
import { type CliContext, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './cli/context.js';
import { migrateCommand } from './cli/migrate.js';
import { serveCommand } from './cli/serve.js';
import { simulateCommand } from './cli/simulate.js';
import { tokenCommand } from './cli/token.js';
import { MAIN_USAGE, USAGE } from './cli/usage.js';

const COMMANDS: Record<string, (ctx: CliContext) => Promise<number>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  'check-config': checkConfigCommand,
  token: tokenCommand,
  backup: backupCommand,
  simulate: simulateCommand,
};

export async function runCli(argv: string[], io: Omit<CliContext, 'args'>): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(MAIN_USAGE);
    return EXIT_OK;
  }
  if (first === '--version' || first === '-v') {
    const { VERSION } = await import('./version.js');
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const name = first === undefined || first.startsWith('-') ? 'serve' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`native-whatsapp: unknown command "${name}"\n\n${MAIN_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await command({ ...io, args });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`native-whatsapp ${name}: ${err.message}\n\n${USAGE[name] ?? MAIN_USAGE}`);
      return EXIT_USAGE;
    }
    io.stderr.write(`native-whatsapp: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
// Let stdout drain before exiting (pipes are asynchronous).
process.stdout.write('', () => process.exit(code));
