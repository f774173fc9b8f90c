// When a running campaign pauses itself (SPEC §14): a run of permanent failures, too many failures
// over its last 100 sends, or its template no longer usable (PAUSED, DISABLED, REJECTED, quality RED).
// The outcome window is a string of one character per send in send order ('0' accepted, '1' failed
// permanently), kept on the campaign row. Pure functions over plain data.

/** How many sends the window keeps. */
export const OUTCOME_WINDOW = 100;
/** The error rate is judged once the window holds at least this many sends. */
export const MIN_SENDS_FOR_RATE = 20;

export interface OutcomeWindow {
  /** recent_outcomes as stored. */
  recent: string;
  /** How many sends were numbered so far (the next send's number). */
  sendsRecorded: number;
}

/** A new send's outcome appended: its number and the window after it. */
export function appendOutcome(w: OutcomeWindow, failed: boolean): { seq: number; recent: string } {
  const recent = (w.recent + (failed ? '1' : '0')).slice(-OUTCOME_WINDOW);
  return { seq: w.sendsRecorded, recent };
}

/**
 * A send accepted before and reported failed later (a `failed` status): its character becomes '1'
 * when it is still inside the window. Returns the window unchanged otherwise.
 */
export function markLateFailure(w: OutcomeWindow, seq: number): string {
  const back = w.sendsRecorded - seq; // 1 = the latest send
  if (back < 1 || back > w.recent.length) return w.recent;
  const at = w.recent.length - back;
  return `${w.recent.slice(0, at)}1${w.recent.slice(at + 1)}`;
}

export interface PauseThresholds {
  pause_after_errors: number;
  pause_error_rate: number;
}

/** Why the outcome window says to pause, or null. */
export function failureVerdict(recent: string, t: PauseThresholds): string | null {
  let run = 0;
  for (let i = recent.length - 1; i >= 0 && recent[i] === '1'; i--) run++;
  if (run >= t.pause_after_errors) {
    return `${run} sends in a row failed permanently (campaigns.pause_after_errors is ${t.pause_after_errors})`;
  }
  if (recent.length >= MIN_SENDS_FOR_RATE) {
    let failed = 0;
    for (const ch of recent) if (ch === '1') failed++;
    const rate = failed / recent.length;
    if (rate > t.pause_error_rate) {
      return `${failed} of the last ${recent.length} sends failed permanently (${pct(rate)}, above campaigns.pause_error_rate of ${pct(t.pause_error_rate)})`;
    }
  }
  return null;
}

const BLOCKING_STATUS = new Set(['PAUSED', 'DISABLED', 'REJECTED']);

/** Why the template (as the cache knows it) cannot carry the campaign, or null. */
export function templateVerdict(
  template: { name: string; language: string },
  cached: { status: string; quality?: string | null; reason?: string | null } | undefined,
): string | null {
  if (!cached) return null;
  const label = `template ${template.name} (${template.language})`;
  const status = cached.status.toUpperCase();
  if (BLOCKING_STATUS.has(status)) {
    const why = cached.reason && cached.reason !== 'NONE' ? `: ${cached.reason}` : '';
    return `${label} is ${status}${why}`;
  }
  if (cached.quality?.toUpperCase() === 'RED') return `${label} has quality RED`;
  return null;
}

const pct = (r: number) => `${Math.round(r * 1000) / 10}%`;
