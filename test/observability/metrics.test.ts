// /metrics after known events: the Prometheus text is parsed and each series checked by value —
// webhooks received and refused, inbox backlog, sends by result and code, outbox depth, follow-ups
// due and sent, conversations by state, request latency.
import { afterEach, describe, expect, it } from 'vitest';
import { type Bench, customerConversation, enqueue, startBench } from '../outbound/harness.js';
import { fixture, post } from '../webhook/deliveries.js';

let b: Bench;
afterEach(async () => {
  await b?.close();
});

/** Every sample's instance_id label (SPEC §10), checked apart and left out of the keys below. */
const instanceIds = new Set<string>();

/** Prometheus text format → "name{a="x",b="y"}" (labels sorted, instance_id aside) → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const pairs = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)];
    instanceIds.add(pairs.find(([, k]) => k === 'instance_id')?.[2] ?? '(none)');
    const labels = pairs
      .filter(([, k]) => k !== 'instance_id')
      .map(([, k, v]) => `${k}="${v}"`)
      .sort();
    out.set(labels.length ? `${m[1]}{${labels.join(',')}}` : (m[1] as string), Number(m[3]));
  }
  return out;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await b.t.request('/metrics', { token: b.t.tokens.standard });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parse(await res.text());
}

describe('/metrics', () => {
  it('reports the counts of known events', async () => {
    b = await startBench({
      config: { follow_up_rules: [{ id: 'nudge', after: '30m', text: 'Still there?' }] },
    });
    // A delivery stored, then processed; one refused for its missing signature.
    const conv = await customerConversation(b.t);
    expect((await post(b.t, { body: fixture('msg_text_plain.json').body, signature: null })).status).toBe(
      401,
    );

    // One send accepted (the conversation becomes pending), one failing permanently with 131026,
    // one waiting in the outbox until later.
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    b.graph.next({ error: 131026 });
    await enqueue(b.t, { to: { wa_id: '4917000000999' } });
    await b.t.deps.outbound.sender.drain();
    await enqueue(b.t, { to: { wa_id: '4917000000998' }, not_before: b.t.clock.now() + 3_600_000 });

    b.t.clock.advance(30 * 60_000);
    let m = await scrape();
    expect(m.get('nwa_webhooks_received_total{state="pending"}')).toBe(1);
    expect(m.get('nwa_webhooks_refused_total{reason="missing_signature"}')).toBe(1);
    expect(m.get('nwa_inbox_backlog')).toBe(0);
    expect(m.get('nwa_outbound_results_total{code="none",outcome="sent"}')).toBe(1);
    expect(m.get('nwa_outbound_results_total{code="131026",outcome="failed"}')).toBe(1);
    expect(m.get('nwa_outbox_depth{state="queued"}')).toBe(1);
    expect(m.get('nwa_outbox_depth{state="sending"}')).toBe(0);
    expect(m.get('nwa_follow_ups_due')).toBe(1);
    expect(m.get('nwa_follow_ups_sent_total')).toBe(0);
    expect(m.get('nwa_conversations{state="pending"}')).toBe(1);
    expect(m.get('nwa_conversations{state="open"}')).toBe(0);

    // The follow-up goes out.
    await b.t.deps.outbound.scheduler.tick();
    await b.t.deps.outbound.sender.drain();
    m = await scrape();
    expect(m.get('nwa_follow_ups_due')).toBe(0);
    expect(m.get('nwa_follow_ups_sent_total')).toBe(1);
    expect(m.get('nwa_outbound_results_total{code="none",outcome="sent"}')).toBe(2);
  });

  it('has the request latency histogram by method, route and status', async () => {
    b = await startBench();
    await b.t.request('/healthz', { token: null });
    const m = await scrape();
    const count = [...m.entries()].find(
      ([k]) => k.startsWith('nwa_http_request_duration_seconds_count{') && k.includes('route="/healthz"'),
    );
    expect(count?.[1]).toBe(1);
    expect([...m.keys()].some((k) => k.startsWith('nwa_http_request_duration_seconds_bucket{'))).toBe(true);
  });

  it('labels every series with the instance id that /healthz and /readyz name', async () => {
    b = await startBench();
    instanceIds.clear();
    await scrape();
    const health = (await (await b.t.request('/healthz', { token: null })).json()) as { instance_id: string };
    const ready = (await (await b.t.request('/readyz', { token: null })).json()) as { instance_id: string };
    expect(health.instance_id).toMatch(/^inst_/);
    expect(ready.instance_id).toBe(health.instance_id);
    expect([...instanceIds]).toEqual([health.instance_id]);
  });

  it('needs a token', async () => {
    b = await startBench();
    expect((await b.t.request('/metrics', { token: null })).status).toBe(401);
  });
});

describe('process metrics', () => {
  it('carry our prefix once: nwa_process_*, nwa_nodejs_*, never nwa_process_process_*', async () => {
    const { createMetrics } = await import('../../src/observability/metrics.js');
    const text = await createMetrics({ defaultMetrics: true }).render();
    const names = [...new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string))];
    expect(names).toContain('nwa_process_cpu_seconds_total');
    expect(names).toContain('nwa_process_resident_memory_bytes');
    expect(names.some((n) => n.startsWith('nwa_nodejs_'))).toBe(true);
    expect(names.filter((n) => /process_process|nodejs_nodejs/.test(n))).toEqual([]);
    expect(names.every((n) => n.startsWith('nwa_'))).toBe(true);
  });
});
