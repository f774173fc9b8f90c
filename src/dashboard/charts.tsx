// Small inline SVG charts drawn here rather than by a library: a trend line (gaps where a bucket has
// no value) and bars for counts. Each chart is an image with a text alternative naming its range, so
// a screen reader hears what a sighted user sees.

const W = 240;
const H = 56;
const PAD = 4;

export interface ChartProps {
  values: (number | null)[];
  /** What the chart shows, read by screen readers: "reply rate per hour". */
  label: string;
  format: (v: number) => string;
  /** Fix the top of the scale (1 for rates); otherwise the largest value. */
  max?: number;
}

function describe(p: ChartProps): string {
  const known = p.values.filter((v): v is number => v !== null);
  if (known.length === 0) return `${p.label}: no data in this window`;
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  const last = known[known.length - 1] as number;
  return `${p.label}: lowest ${p.format(lo)}, highest ${p.format(hi)}, latest ${p.format(last)}`;
}

function scale(p: ChartProps): { x: (i: number) => number; y: (v: number) => number } {
  const known = p.values.filter((v): v is number => v !== null);
  const top = p.max ?? Math.max(1, ...known);
  const n = Math.max(1, p.values.length - 1);
  return {
    x: (i) => PAD + (i * (W - 2 * PAD)) / n,
    y: (v) => H - PAD - (Math.min(v, top) / top) * (H - 2 * PAD),
  };
}

function NoData() {
  return <p class="chart-empty">No data in this window yet</p>;
}

/**
 * A line through the buckets that have a value, with a dot on each: an empty bucket (no turns, no
 * silences) is skipped rather than drawn as zero, and the dots show where the measurements are.
 */
export function LineChart(p: ChartProps) {
  const { x, y } = scale(p);
  const points: [number, number][] = [];
  p.values.forEach((v, i) => {
    if (v !== null) points.push([x(i), y(v)]);
  });
  if (points.length === 0) return <NoData />;
  const label = describe(p);
  return (
    <figure class="chart-box">
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
        <title>{label}</title>
        <line class="axis" x1={PAD} x2={W - PAD} y1={H - PAD} y2={H - PAD} />
        {points.length > 1 ? (
          <polyline points={points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')} />
        ) : null}
        {points.map(([a, b]) => (
          <circle cx={a.toFixed(1)} cy={b.toFixed(1)} r="2" />
        ))}
      </svg>
      <figcaption>{p.label}</figcaption>
    </figure>
  );
}

/** One bar per bucket (counts). */
export function BarChart(p: ChartProps) {
  if (!p.values.some((v) => v !== null && v > 0)) return <NoData />;
  const { y } = scale(p);
  const n = Math.max(1, p.values.length);
  const slot = (W - 2 * PAD) / n;
  const label = describe(p);
  return (
    <figure class="chart-box">
      <svg
        class="chart bars"
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={label}
      >
        <title>{label}</title>
        <line class="axis" x1={PAD} x2={W - PAD} y1={H - PAD} y2={H - PAD} />
        {p.values.map((v, i) =>
          v === null || v === 0 ? null : (
            <rect
              x={(PAD + i * slot + slot * 0.15).toFixed(1)}
              y={y(v).toFixed(1)}
              width={(slot * 0.7).toFixed(1)}
              height={(H - PAD - y(v)).toFixed(1)}
            />
          ),
        )}
      </svg>
      <figcaption>{p.label}</figcaption>
    </figure>
  );
}

/** Parts of a whole as one stacked bar (conversations by state, a campaign's funnel stages). */
export function StackBar(p: { parts: { label: string; value: number; tone: string }[]; label: string }) {
  const total = p.parts.reduce((s, x) => s + x.value, 0);
  const text = `${p.label}: ${p.parts.map((x) => `${x.label} ${x.value}`).join(', ')}`;
  let at = 0;
  return (
    <svg class="stack" viewBox="0 0 240 12" preserveAspectRatio="none" role="img" aria-label={text}>
      <title>{text}</title>
      <rect class="track" x="0" y="0" width="240" height="12" rx="3" />
      {total === 0
        ? null
        : p.parts.map((x) => {
            const w = (x.value / total) * 240;
            const r = (
              <rect class={`tone-${x.tone}`} x={at.toFixed(2)} y="0" width={w.toFixed(2)} height="12" />
            );
            at += w;
            return r;
          })}
    </svg>
  );
}
