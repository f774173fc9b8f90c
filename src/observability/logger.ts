// pino, JSON by default, pretty only when asked or when a TTY is attached. Two guards keep secrets out
// of the output: `redact` for every known secret-bearing path, and a scrubbing stream that replaces
// the value of any configured secret wherever it appears in a line (messages, error texts, URLs).
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Every secret the daemon accepts is at least 8 characters (channel secrets 8, API tokens 16). Shorter
 * values are not secrets it uses, and scrubbing them garbled ordinary words ("short" in "shorter").
 */
const MIN_SCRUBBED_LENGTH = 8;

export type { Logger };

const SECRET_KEYS = [
  'app_secret',
  'verify_token',
  'access_token',
  'api_key',
  'token',
  'authorization',
  'Authorization',
  'password',
  'secret',
];

/** Paths redacted by pino: the secret keys at the top level and up to three levels down. */
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]).concat([
  'req.headers.authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
]);

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go; stdout by default. */
  destination?: NodeJS.WritableStream;
  /** Whether the destination is a terminal (for format "auto"). */
  isTty?: boolean;
  /** Secret values to scrub from every line; may grow after start (generated secrets). */
  secrets?: () => readonly string[];
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && options.isTty === true);
  const sink = usePretty ? pretty({ colorize: options.isTty === true, destination }) : destination;
  const stream = options.secrets ? scrubbingStream(sink, options.secrets) : sink;
  return pino(
    {
      level: options.level,
      base: { service: 'native-whatsapp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** A stream that replaces each secret value in a line before passing the line on. */
export function scrubbingStream(sink: NodeJS.WritableStream, secrets: () => readonly string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      let line = chunk.toString();
      for (const s of secrets()) {
        if (s.length >= MIN_SCRUBBED_LENGTH && line.includes(s)) line = line.split(s).join('[redacted]');
      }
      // Pass the line on and return at once: waiting for the sink's callback would hold later lines
      // back a tick, and the sink (stdout or pino-pretty) buffers on its own.
      sink.write(line);
      done();
    },
  });
}

/** A logger that drops everything; for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
