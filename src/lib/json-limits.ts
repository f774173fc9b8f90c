// Limits checked on JSON text before it is parsed (SPEC §9a): nesting depth and array lengths, counted
// in one pass over the characters without building a value, so a body that could only exceed them
// (32 MiB of empty recipients, an object nested 10,000 levels) is refused before JSON.parse builds it.
// The text need not be valid JSON: what is malformed is left to JSON.parse to report.

export const MAX_JSON_DEPTH = 64;

export interface JsonLimits {
  maxDepth: number;
  /** Most elements any one array may have. */
  maxArrayLength: number;
}

export type JsonLimitProblem =
  | { kind: 'depth'; path: string; limit: number }
  | { kind: 'array_length'; path: string; limit: number };

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

/** The first limit the text breaks, with the dotted path where (keys, array indexes), or null. */
export function checkJsonLimits(text: string, limits: JsonLimits): JsonLimitProblem | null {
  // Per open container: is it an array, its element count so far (arrays), the key being read (objects).
  const isArray: boolean[] = [];
  const counts: number[] = [];
  const keys: (string | null)[] = [];
  let lastStringStart = -1;
  let lastStringEnd = -1;
  const pathHere = (): string =>
    isArray
      .map((arr, i) => (arr ? String(Math.max(0, (counts[i] as number) - 1)) : (keys[i] ?? '')))
      .filter((p) => p !== '')
      .join('.');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      lastStringStart = i + 1;
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i += 2;
        else if (d === QUOTE) break;
        else i++;
      }
      lastStringEnd = i;
      markValue(isArray, counts);
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      markValue(isArray, counts);
      if (isArray.length >= limits.maxDepth) {
        return { kind: 'depth', path: pathHere(), limit: limits.maxDepth };
      }
      isArray.push(c === OPEN_ARRAY);
      counts.push(0);
      keys.push(null);
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      isArray.pop();
      counts.pop();
      keys.pop();
    } else if (c === COLON) {
      const top = isArray.length - 1;
      if (top >= 0 && !isArray[top] && lastStringStart >= 0) {
        // The key just read becomes a value again in markValue's eyes: an object counts nothing.
        keys[top] = text.slice(lastStringStart, Math.min(lastStringEnd, lastStringStart + 100));
      }
    } else if (c === COMMA) {
      const top = isArray.length - 1;
      if (top >= 0 && isArray[top]) {
        // The next element starts: counted when its first character arrives (markValue).
        counts[top] = -Math.abs(counts[top] as number);
      }
    } else if (c > 32) {
      markValue(isArray, counts);
    }
    const top = isArray.length - 1;
    if (top >= 0 && isArray[top] && Math.abs(counts[top] as number) > limits.maxArrayLength) {
      const at = pathHere().split('.').slice(0, -1).join('.');
      return { kind: 'array_length', path: at, limit: limits.maxArrayLength };
    }
  }
  return null;
}

/**
 * A value starts at the current position: if the innermost container is an array waiting for its next
 * element (count 0 or negative after a comma), that element is counted now.
 */
function markValue(isArray: boolean[], counts: number[]): void {
  const top = isArray.length - 1;
  if (top < 0 || !isArray[top]) return;
  const n = counts[top] as number;
  if (n <= 0) counts[top] = -n + 1;
}

/**
 * Whether a parsed value nests deeper than `max` (the value itself is level 1). Iterative, so a value
 * nested 10,000 levels is judged without the recursion (JSON.stringify, a schema walk) it would
 * overflow the stack in; used on webhook items, which are parsed before they can be checked as text.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1 });
    }
  }
  return false;
}
