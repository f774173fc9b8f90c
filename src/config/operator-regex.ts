// Operator-written patterns (class `match.patterns`, SPEC §9a) run on re2js, a pure-JS port of RE2:
// matching is linear in the text, so no pattern and no message can make one match backtrack. RE2
// syntax (no lookaround, no backreferences); a pattern it cannot compile is refused with its path.
import { RE2JS } from 're2js';

/**
 * Largest compiled program one pattern may have. When RE2's DFA gives up on a pattern it falls back
 * to an NFA whose cost is text length × program size (`.{0,1000}.{0,1000}x` is 4,003 instructions and
 * half a second over 4 KiB); at 100 a match over the capped text stays within a few milliseconds.
 */
export const MAX_PATTERN_PROGRAM = 100;
/** Sum of the program sizes of every pattern in one document: bounds the work per classified message. */
export const MAX_TOTAL_PATTERN_PROGRAM = 1000;

export type OperatorPattern = RE2JS;

/** Compiles a pattern case-insensitively (as classes match text); throws on what RE2 refuses. */
export function compileOperatorPattern(source: string): OperatorPattern {
  return RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
}

/** Why a pattern is refused, or null; with its program size so a document total can be checked. */
export function checkOperatorPattern(source: string): { problem: string | null; size: number } {
  let re: OperatorPattern;
  try {
    re = compileOperatorPattern(source);
  } catch (err) {
    // re2js messages name the offending part ("missing closing ): `(a`"), never more than the pattern.
    const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
    return { problem: `is not a pattern the linear-time (RE2) engine accepts: ${reason}`, size: 0 };
  }
  const size = re.programSize();
  if (size > MAX_PATTERN_PROGRAM) {
    return {
      problem: `is too large for the linear-time engine (${size} instructions, at most ${MAX_PATTERN_PROGRAM}): use fewer or smaller counted repeats, or split it into several patterns`,
      size,
    };
  }
  return { problem: null, size };
}
