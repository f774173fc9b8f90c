// A campaign's recipient list (SPEC §7): each wa_id must be 8 to 15 digits; duplicates are merged
// into the first occurrence and reported by index; bad entries are reported by index, never dropped.
// Per-recipient parameters become the template's body parameters. Pure functions.
import type { TemplateMessage } from '../outbound/transports/transport.js';

/** Body parameters: positional ({{1}}, {{2}}, ...) as a list, or named ({{first_name}}) as an object. */
export type RecipientParameters = string[] | Record<string, string>;

export interface RecipientInput {
  wa_id: unknown;
  parameters?: unknown;
}

export interface CleanRecipient {
  index: number;
  wa_id: string;
  parameters: RecipientParameters | null;
}

export interface RecipientProblem {
  path: string;
  message: string;
}

export interface Duplicate {
  index: number;
  wa_id: string;
  /** The index of the occurrence that was kept. */
  first_index: number;
}

export type RecipientCheck =
  | { ok: true; recipients: CleanRecipient[]; duplicates: Duplicate[] }
  | { ok: false; problems: RecipientProblem[]; total_problems: number };

const WA_ID = /^\d{8,15}$/;
const NAMED = /^[a-z_][a-z0-9_]{0,59}$/;
export const MAX_PARAMETERS = 20;
export const MAX_PARAMETER_LENGTH = 1024;
/** Problems listed in an error's details; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 100;

function checkParameters(
  value: unknown,
  path: string,
  problems: RecipientProblem[],
): RecipientParameters | null {
  if (value === undefined || value === null) return null;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : typeof value === 'object'
      ? Object.entries(value as Record<string, unknown>)
      : null;
  if (entries === null) {
    problems.push({ path, message: 'must be a list of strings or an object of named strings' });
    return null;
  }
  if (entries.length > MAX_PARAMETERS) {
    problems.push({ path, message: `must have at most ${MAX_PARAMETERS} parameters` });
    return null;
  }
  let ok = true;
  for (const [key, v] of entries) {
    if (!Array.isArray(value) && !NAMED.test(key)) {
      problems.push({ path: `${path}.${key}`, message: 'is not a valid parameter name (a-z, 0-9, _)' });
      ok = false;
    } else if (typeof v !== 'string' || v.length === 0 || v.length > MAX_PARAMETER_LENGTH) {
      problems.push({
        path: `${path}.${key}`,
        message: `must be a non-empty string of at most ${MAX_PARAMETER_LENGTH} characters`,
      });
      ok = false;
    }
  }
  return ok ? (value as RecipientParameters) : null;
}

/** Validates and de-duplicates; `max` is the most recipients one campaign may have. */
export function checkRecipients(list: readonly RecipientInput[], max: number): RecipientCheck {
  const problems: RecipientProblem[] = [];
  let total = 0;
  const push = (p: RecipientProblem) => {
    total++;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(p);
  };
  if (list.length === 0) push({ path: 'recipients', message: 'must list at least one recipient' });
  const seen = new Map<string, number>();
  const recipients: CleanRecipient[] = [];
  const duplicates: Duplicate[] = [];
  for (let index = 0; index < list.length; index++) {
    const r = list[index] as RecipientInput;
    const base = `recipients.${index}`;
    const local: RecipientProblem[] = [];
    const wa = r?.wa_id;
    if (typeof wa !== 'string' || !WA_ID.test(wa)) {
      local.push({
        path: `${base}.wa_id`,
        message: 'must be a phone number of 8 to 15 digits (no +, spaces or dashes)',
      });
    }
    const parameters = checkParameters(r?.parameters, `${base}.parameters`, local);
    if (local.length > 0) {
      for (const p of local) push(p);
      continue;
    }
    const first = seen.get(wa as string);
    if (first !== undefined) {
      duplicates.push({ index, wa_id: wa as string, first_index: first });
      continue;
    }
    seen.set(wa as string, index);
    recipients.push({ index, wa_id: wa as string, parameters });
  }
  if (total === 0 && recipients.length > max) {
    push({
      path: 'recipients',
      message: `must have at most ${max} distinct recipients (has ${recipients.length})`,
    });
  }
  if (total > 0) return { ok: false, problems, total_problems: total };
  return { ok: true, recipients, duplicates };
}

/**
 * The template to send to one recipient: the campaign's components with the recipient's body
 * parameters in place of any body component the campaign declared.
 */
export function templateFor(
  template: TemplateMessage,
  parameters: RecipientParameters | null,
): TemplateMessage {
  if (parameters === null) return template;
  const body = {
    type: 'body',
    parameters: Array.isArray(parameters)
      ? parameters.map((text) => ({ type: 'text', text }))
      : Object.entries(parameters).map(([name, text]) => ({ type: 'text', parameter_name: name, text })),
  };
  const rest = (template.components ?? []).filter((c) => String(c.type).toLowerCase() !== 'body');
  return { ...template, components: [...rest, body] };
}
