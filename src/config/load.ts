// Reads the configuration layers in precedence order (built-in defaults < config/default.json <
// CONFIG_PATH file < environment), merges them, validates the result once, and reports every
// problem with its key, what is wrong and which layer the value came from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { checkJsonLimits, MAX_JSON_DEPTH } from '../lib/json-limits.js';
import { type Config, type ConfigDocument, configSchema } from './schema.js';

const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Shortest API_ROOT_TOKEN / API_STANDARD_TOKEN accepted. */
export const MIN_BOOTSTRAP_TOKEN_LENGTH = 16;

export interface ConfigProblem {
  key: string;
  problem: string;
  source: string;
}

export interface LoadedConfig {
  config: Config;
  /** The merged document before defaults, as written by the operator (for display and diffing). */
  document: Record<string, unknown>;
  sources: ConfigLayer[];
}

export interface ConfigLayer {
  /** Human-readable origin: "config/default.json", "env", "management API (version 3)". */
  name: string;
  document: Record<string, unknown>;
  /** For the env layer: dotted key → variable name, so errors can name the variable. */
  origins?: Record<string, string>;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  - ${p.key}: ${p.problem} (from ${p.source})`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Environment variables of SPEC §1 and where each lands in the document. */
export const ENV_KEYS: Record<string, { key: string; type: 'string' | 'number' }> = {
  HOST: { key: 'server.host', type: 'string' },
  PORT: { key: 'server.port', type: 'number' },
  INSTANCE_ID: { key: 'server.instance_id', type: 'string' },
  DATABASE_PATH: { key: 'database.path', type: 'string' },
  DATABASE_URL: { key: 'database.url', type: 'string' },
  LOG_LEVEL: { key: 'log.level', type: 'string' },
  LOG_FORMAT: { key: 'log.format', type: 'string' },
  WHATSAPP_VERIFY_TOKEN: { key: 'channels.verify_token', type: 'string' },
  WHATSAPP_APP_SECRET: { key: 'channels.app_secret', type: 'string' },
  WHATSAPP_ACCESS_TOKEN: { key: 'channels.access_token', type: 'string' },
  WHATSAPP_PHONE_NUMBER_ID: { key: 'channels.phone_number_id', type: 'string' },
  WHATSAPP_API_BASE_URL: { key: 'channels.api_base_url', type: 'string' },
  WHATSAPP_API_VERSION: { key: 'channels.api_version', type: 'string' },
};

export interface LoadOptions {
  env: Record<string, string | undefined>;
  /** Directory holding config/default.json; the current directory by default. */
  baseDir?: string;
  /** Extra layers above the files and below the environment (stored management config). */
  overrides?: ConfigLayer[];
}

/** Reads the files and environment; throws ConfigError listing every problem. */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const baseDir = options.baseDir ?? process.cwd();
  const layers: ConfigLayer[] = [];
  const problems: ConfigProblem[] = [];

  const defaultFile = path.join(baseDir, 'config', 'default.json');
  const fileLayer = readJsonLayer(defaultFile, 'config/default.json', false, problems);
  if (fileLayer) layers.push(fileLayer);

  const extra = options.env.CONFIG_PATH;
  if (extra !== undefined && extra !== '') {
    const layer = readJsonLayer(path.resolve(baseDir, extra), `CONFIG_PATH (${extra})`, true, problems);
    if (layer) layers.push(layer);
  }
  // Bootstrap tokens are not part of the document, but a short one is a configuration mistake: refused
  // at start (exit 2) rather than replaced by a generated token the operator does not know about.
  for (const name of ['API_ROOT_TOKEN', 'API_STANDARD_TOKEN']) {
    const value = options.env[name];
    if (value !== undefined && value !== '' && value.length < MIN_BOOTSTRAP_TOKEN_LENGTH) {
      problems.push({
        key: name,
        problem: `is shorter than ${MIN_BOOTSTRAP_TOKEN_LENGTH} characters; use a long random value (e.g. openssl rand -hex 24)`,
        source: 'environment',
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  layers.push(...(options.overrides ?? []));
  layers.push(envLayer(options.env));
  return resolveConfig(layers);
}

/** Merges layers (later wins; arrays are replaced, not merged) and validates the result. */
export function resolveConfig(layers: ConfigLayer[]): LoadedConfig {
  let document: Record<string, unknown> = {};
  for (const layer of layers) document = deepMerge(document, layer.document);
  const result = configSchema.safeParse(document);
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, layers));
  return { config: deepFreeze(result.data), document, sources: layers };
}

export function describeIssues(issues: z.core.$ZodIssue[], layers: ConfigLayer[]): ConfigProblem[] {
  return issues.map((issue) => {
    const keys =
      issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    const key = keys.map((k) => k.map(String).join('.')).join(', ') || '(root)';
    const problem = issue.code === 'unrecognized_keys' ? 'is not a known setting' : issue.message;
    return { key, problem, source: sourceOf(keys[0] ?? [], layers) };
  });
}

/** Which layer set the value at this path (the last one that sets it or a parent of it). */
export function sourceOf(keyPath: PropertyKey[], layers: ConfigLayer[]): string {
  const dotted = keyPath.map(String);
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as ConfigLayer;
    // The most specific prefix of the path that this layer sets.
    for (let n = dotted.length; n > 0; n--) {
      if (hasPath(layer.document, dotted.slice(0, n))) {
        const envName = layer.origins?.[dotted.slice(0, n).join('.')];
        return envName ? `environment variable ${envName}` : layer.name;
      }
    }
  }
  return 'built-in defaults';
}

function hasPath(doc: unknown, keys: string[]): boolean {
  let cur: unknown = doc;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || !(k in (cur as Record<string, unknown>))) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return true;
}

function readJsonLayer(
  file: string,
  name: string,
  required: boolean,
  problems: ConfigProblem[],
): ConfigLayer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    problems.push({ key: '(file)', problem: `cannot read ${file}: ${(err as Error).message}`, source: name });
    return undefined;
  }
  // SPEC §9a: a config document is at most 1 MiB, and nested no deeper than any API body.
  if (Buffer.byteLength(text) > MAX_CONFIG_FILE_BYTES) {
    problems.push({ key: '(file)', problem: `${file} is larger than 1 MiB`, source: name });
    return undefined;
  }
  const tooDeep = checkJsonLimits(text, {
    maxDepth: MAX_JSON_DEPTH,
    maxArrayLength: Number.MAX_SAFE_INTEGER,
  });
  if (tooDeep) {
    problems.push({
      key: tooDeep.path || '(file)',
      problem: `is nested deeper than ${MAX_JSON_DEPTH} levels`,
      source: name,
    });
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    problems.push({
      key: '(file)',
      problem: `${file} is not valid JSON: ${jsonErrorWhere(err, text)}`,
      source: name,
    });
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push({ key: '(file)', problem: `${file} must hold a JSON object`, source: name });
    return undefined;
  }
  return { name, document: parsed as Record<string, unknown> };
}

/** "Unexpected token } at line 3, column 5" from a JSON.parse error. */
export function jsonErrorWhere(err: unknown, text: string): string {
  const message = (err as Error).message;
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${column} (offset ${pos})`;
}

/** The name of the environment layer, which stays above a stored management override. */
export const ENV_LAYER_NAME = 'environment';

function envLayer(env: Record<string, string | undefined>): ConfigLayer {
  const document: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [name, target] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = target.type === 'number' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    setPath(document, target.key.split('.'), value);
    origins[target.key] = name;
  }
  return { name: ENV_LAYER_NAME, document, origins };
}

export function setPath(doc: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = doc;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) {
      cur[k] = value;
      return;
    }
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  });
}

export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    out[k] =
      isPlainObject(prev) && isPlainObject(v)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : structuredClone(v);
  }
  return out;
}

function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export type { Config, ConfigDocument };
