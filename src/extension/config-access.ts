// Which management config keys a token tier may change (SPEC §8 "Management config"). Standard
// tokens change behaviour rules; root alone changes credentials, access tier, autonomous mode,
// pausing, analytics, retention and the operational knobs; settings that need a restart (server,
// database, log) are read-only over the API.
import type { Tier } from '../auth/tokens.js';

export type KeyAccess = 'standard' | 'root' | 'read_only';

const RULES: ReadonlyArray<readonly [string, KeyAccess]> = [
  ['server', 'read_only'],
  ['database', 'read_only'],
  ['log', 'read_only'],
  ['channels', 'root'],
  ['runtime.status', 'root'],
  ['runtime.access_tier', 'root'],
  // Turning autonomy off is allowed to standard tokens; turning it on is not (see accessFor).
  ['runtime.automation_mode', 'standard'],
  ['conversation_classes', 'standard'],
  ['scorer', 'standard'],
  ['escalation', 'standard'],
  ['follow_up_rules', 'standard'],
  ['quiet_hours', 'standard'],
  ['responder', 'standard'],
  // Where customer text is sent and with which key: credentials, not rules.
  ['responder.openai.api_key', 'root'],
  ['responder.openai.base_url', 'root'],
  ['opt_out', 'standard'],
  ['conversations', 'standard'],
  ['outbound', 'root'],
  ['scheduler', 'root'],
  ['inbox', 'root'],
  ['load', 'root'],
  ['campaigns', 'root'],
  ['templates', 'root'],
  ['retention', 'root'],
  ['analytics', 'root'],
  // The media folder is where files go on disk: fixed at start like the database path.
  ['media', 'root'],
  ['media.dir', 'read_only'],
  ['events', 'root'],
];

const RANK: Record<KeyAccess, number> = { standard: 0, root: 1, read_only: 2 };

/**
 * The access a change of `path` to `value` needs, or undefined for a key no rule knows (the schema
 * then rejects it as unknown). Replacing a whole object counts as changing everything inside it.
 */
export function accessFor(path: string[], value: unknown): KeyAccess | undefined {
  const dotted = path.join('.');
  let found: KeyAccess | undefined;
  for (const [rule, access] of RULES) {
    const overlaps = dotted === rule || dotted.startsWith(`${rule}.`) || rule.startsWith(`${dotted}.`);
    if (overlaps && (found === undefined || RANK[access] > RANK[found])) found = access;
  }
  if (dotted === 'runtime.automation_mode' && value === 'autonomous') return 'root';
  if (dotted === 'runtime' && isAutonomous(value)) return 'root';
  return found;
}

function isAutonomous(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Record<string, unknown>).automation_mode === 'autonomous'
  );
}

export interface AccessCheck {
  /** Keys no tier may change over the API. */
  readOnly: string[];
  /** Keys the token's tier may not change. */
  denied: string[];
}

export function checkAccess(changes: { path: string[]; value: unknown }[], tier: Tier): AccessCheck {
  const readOnly: string[] = [];
  const denied: string[] = [];
  for (const { path, value } of changes) {
    const access = accessFor(path, value);
    if (access === 'read_only') readOnly.push(path.join('.'));
    else if (access === 'root' && tier !== 'root') denied.push(path.join('.'));
  }
  return { readOnly, denied };
}
