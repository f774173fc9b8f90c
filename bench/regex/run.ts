// Operator regexes (SPEC §9a, issue 12): the worst cost of classifying one message when a class holds a
// hostile pattern (nested or adjacent unbounded quantifiers, counted repeats at the engine's size cap),
// over hostile texts at and beyond the matched-text cap, as a ratio to classifying the same texts
// against a plain keyword class measured in the same run. Each (pattern, text) pair is timed over
// several rounds after a warm-up; a case's cost is the median round's mean per message (the box is
// shared: one descheduled round should not decide), and the worst case over all pairs is reported.
// Alone: `node --import tsx bench/regex/run.ts [--quick]` writes bench/results/regex-<time>.json.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_PATTERN_PROGRAM } from '../../src/config/operator-regex.js';
import { configSchema } from '../../src/config/schema.js';
import { classify } from '../../src/conversations/classify.js';
import { describeMachine } from '../lib/machine.js';
import { RESULTS_DIR } from '../lib/results.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const ROUNDS = values.quick ? 3 : 10;
const PER_ROUND = values.quick ? 5 : 20;

const near = MAX_PATTERN_PROGRAM - 10;
export const HOSTILE_PATTERNS = [
  '.*.*.*.*=',
  '.*order.*status.*',
  '(a+)+$',
  '(a|a)*b',
  '(x+x+)+y',
  '(\\w*)*@',
  '^(a?){15}a{15}$',
  '(?:.*?[a-z]){20}#',
  `a.{${near}}b`,
  `[a-q][^u-z]{${near - 20}}x`,
  '\\b(\\w+\\s+){0,5}\\w+\\b!',
];

function randomWords(n: number): string {
  let seed = 42;
  let out = '';
  while (out.length < n) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out += String.fromCharCode(97 + (seed % 26));
    if (seed % 7 === 0) out += ' ';
  }
  return out.slice(0, n);
}

export const HOSTILE_TEXTS: Record<string, string> = {
  a_4k: 'a'.repeat(4096),
  a_1m: 'a'.repeat(1_000_000),
  x_4k: 'x'.repeat(4096),
  order_words: 'order status '.repeat(400),
  random_letters: randomWords(4096),
  accented: 'é'.repeat(4096),
  emoji: '😀'.repeat(2048),
};

/** Mean milliseconds per classified message, median of several rounds. */
function perMessage(cfg: ReturnType<typeof configSchema.parse>, text: string): number {
  const input = { text, message_type: 'text' };
  for (let i = 0; i < 3; i++) classify(input, cfg); // warm-up: compile and JIT
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (let i = 0; i < PER_ROUND; i++) classify(input, cfg);
    rounds.push((performance.now() - started) / PER_ROUND);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)] as number;
}

const keywordCfg = configSchema.parse({
  conversation_classes: [{ name: 'kw', match: { keywords: ['refund'] } }],
});
const cases: { pattern: string; text: string; ms: number; keyword_ms: number }[] = [];
for (const pattern of HOSTILE_PATTERNS) {
  const cfg = configSchema.parse({
    conversation_classes: [{ name: 'hostile', match: { patterns: [pattern] } }],
  });
  for (const [name, text] of Object.entries(HOSTILE_TEXTS)) {
    // The keyword class over the same text, right after: the same box, the same moment.
    cases.push({ pattern, text: name, ms: perMessage(cfg, text), keyword_ms: perMessage(keywordCfg, text) });
  }
}
const worst = cases.reduce((a, b) => (b.ms > a.ms ? b : a));
const worstRatio = cases.reduce((a, b) => (b.ms / b.keyword_ms > a.ms / a.keyword_ms ? b : a));
const round = (n: number, d = 4) => Math.round(n * 10 ** d) / 10 ** d;

const report = {
  benchmark: 'regex',
  machine: describeMachine(),
  settings: {
    rounds: ROUNDS,
    per_round: PER_ROUND,
    engine: 're2js',
    max_pattern_program: MAX_PATTERN_PROGRAM,
  },
  worst_case: `${worst.pattern} over ${worst.text}`,
  worst_classify_ms: round(worst.ms),
  keyword_classify_same_text_ms: round(worst.keyword_ms),
  worst_ratio_case: `${worstRatio.pattern} over ${worstRatio.text}`,
  ratios: {
    worst_vs_keyword: round(worst.ms / worst.keyword_ms, 2),
    worst_ratio_any_case: round(worstRatio.ms / worstRatio.keyword_ms, 2),
  },
  cases: cases.map((c) => ({ ...c, ms: round(c.ms), keyword_ms: round(c.keyword_ms) })),
};
const file = path.join(RESULTS_DIR, `regex-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `worst ${report.worst_classify_ms} ms per message (${report.worst_case}), ${report.ratios.worst_vs_keyword}x the keyword class on that text; largest ratio ${report.ratios.worst_ratio_any_case}x (${report.worst_ratio_case})`,
);
console.log(`written to ${path.relative(path.resolve(import.meta.dirname, '../..'), file)}`);
