// Help texts, one per command; `--help` on any command prints its own.

export const MAIN_USAGE = `Usage: native-whatsapp [command] [options]

Commands:
  serve                 run the daemon (default)
  migrate               apply pending database migrations and exit
  check-config          validate and print the effective configuration (secrets redacted)
  token create|list|revoke   manage API tokens
  backup FILE           write an online, consistent copy of the database to FILE
  simulate              post signed sample webhooks to a running daemon

Run "native-whatsapp <command> --help" for a command's options.
Configuration: config/default.json < CONFIG_PATH file < environment (HOST, PORT, DATABASE_PATH,
LOG_LEVEL, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN, ...). See README.md.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration.
`;

export const USAGE: Record<string, string> = {
  serve: `Usage: native-whatsapp serve

Runs the daemon: applies migrations, listens on HOST:PORT (default 127.0.0.1:8080), processes
webhooks and runs the scheduler. SIGTERM or SIGINT (Ctrl-C) stops it gracefully (exit 0).
`,
  migrate: `Usage: native-whatsapp migrate

Applies pending migrations to the database at DATABASE_PATH and exits.
`,
  'check-config': `Usage: native-whatsapp check-config [--files-only] [--show-secrets [--force]]

Validates the configuration from every source and prints the effective document as JSON with
secrets redacted, including what was stored through the management API (read from the database,
never created). On standard error: the layers in order and which layer set each value. Exit 2 with
every problem listed when it is invalid.
  --files-only     leave the stored management layer out (defaults, files and environment only)
  --show-secrets   print secrets too, including generated webhook secrets stored in the database;
                   only to a terminal unless --force is given as well
  --force          allow --show-secrets when standard output is not a terminal
`,
  token: `Usage: native-whatsapp token <create|list|revoke> [options]

  token create --tier standard|root [--name NAME]   create a token; it is printed once
  token list [--json]                               list tokens (never their values)
  token revoke ID                                   revoke a token by id
`,
  simulate: `Usage: native-whatsapp simulate [--scenario NAME] [--url URL] [--token TOKEN] [--list]

Signs built-in sample webhook deliveries with the app secret (WHATSAPP_APP_SECRET, else the one the
daemon generated in its database) and posts them to a running daemon, printing each status code.
Run it with the same configuration (environment, CONFIG_PATH) as the daemon.
  --scenario NAME  which samples to send (default "default"; see --list). "demo" also creates the
                   channel's agent, installs the extension and reports what the daemon did with each
                   message (start the daemon with CONFIG_PATH=config/demo.json to see it all)
  --url URL        the daemon's base URL (default http://HOST:PORT from the configuration, so
                   http://127.0.0.1:8080); use it when the daemon listens on another port
  --token TOKEN    a root API token for the demo (default: API_ROOT_TOKEN, else one made for the
                   run in the daemon's database and revoked when it ends)
  --list           list the scenarios and exit
Exit 0 when every delivery got 200 (and, for the demo, everything happened), 1 otherwise.
`,
  backup: `Usage: native-whatsapp backup FILE [--force]

Writes an online, consistent copy of the database to FILE while the daemon keeps running.
Restore by stopping the daemon and copying FILE back to DATABASE_PATH.
  --force   overwrite FILE if it exists
`,
};
