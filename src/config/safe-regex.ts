// A conservative check against catastrophic backtracking in operator-written patterns: refuse a
// quantified group that itself contains a quantifier ("(a+)+", "(\w*x)*") and quantified
// alternations whose branches can match the same text ("(a|a)*"). Matching is also bounded by a
// length cap on the text (conversations/classify.ts), so a pattern that slips through stays bounded.

export function isSafePattern(src: string): boolean {
  // Strip escapes and character classes so their contents do not look like structure.
  const s = src.replace(/\\./g, 'x').replace(/\[[^\]]*\]/g, 'x');
  const stack: { hasQuantifier: boolean; hasAlternation: boolean }[] = [];
  let lastGroup: { hasQuantifier: boolean; hasAlternation: boolean } | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(') {
      stack.push({ hasQuantifier: false, hasAlternation: false });
      lastGroup = null;
    } else if (ch === ')') {
      lastGroup = stack.pop() ?? null;
      const parent = stack[stack.length - 1];
      if (parent && lastGroup?.hasQuantifier) parent.hasQuantifier = true;
    } else if (ch === '|') {
      const top = stack[stack.length - 1];
      if (top) top.hasAlternation = true;
    } else if (ch === '*' || ch === '+' || ch === '{' || ch === '?') {
      const repeats = ch !== '?' || false;
      if (lastGroup && repeats && (lastGroup.hasQuantifier || lastGroup.hasAlternation)) return false;
      if (ch === '{') {
        const close = s.indexOf('}', i);
        if (close > i) i = close;
      }
      const top = stack[stack.length - 1];
      if (top && repeats) top.hasQuantifier = true;
      lastGroup = null;
    } else {
      lastGroup = null;
    }
  }
  return true;
}
