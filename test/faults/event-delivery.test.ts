// SPEC §11 under faults: the built daemon delivers its event log to four real receivers (signatures
// verified with `standardwebhooks`) while customers write and the daemon replies and is killed with
// SIGKILL twice: a healthy one; a flaky one that answers 500s, lets requests time out and goes down
// (connection refused) for a while, then comes back; one that answers 410 Gone after a while (the
// subscription is disabled); and one that answers with garbage and redirects for a stretch. Afterwards:
// every event reached every live receiver at least once (nothing lost), each conversation's events in
// sequence order, retries bounded by the backoff, duplicates only from the kills, and the 410 turned
// that subscription off with `runtime.status_changed` saying why.
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import {
  createFaultWorld,
  type FaultWorld,
  faultSeed,
  seededRandom,
  sleep,
  textDeliveryBody,
} from './harness.js';
import { type Totals, writeScenarioTotals } from './totals.js';

const LOAD_S = Number(process.env.FAULTS_EVENTS_S ?? 40);
const CUSTOMERS = 40;
const BASE = '/api/extensions/native-whatsapp/management/webhooks';
const CONCURRENCY = 4;
// The daemon's retry policy for this scenario: the shortest the config takes (durations of 1 s and up),
// so that retries happen many times in a minute.
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 4000;
const TIMEOUT_MS = 1000;

const receivers: WebhookReceiver[] = [];
let world: FaultWorld | undefined;
afterAll(async () => {
  await world?.close();
  for (const r of receivers) await r.close();
});

/** A receiver whose records survive it going down and coming back on the same port. */
interface Subscriber {
  name: string;
  id: string;
  secret: string;
  rx: WebhookReceiver;
  arrivals: WebhookReceiver['requests'];
  acks: WebhookReceiver['acknowledged'];
  down(): Promise<void>;
  up(): Promise<void>;
}

async function subscriber(
  w: FaultWorld,
  name: string,
  answer: WebhookReceiver['answer'],
): Promise<Subscriber> {
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  rx.answer = answer;
  const res = await w.api('POST', BASE, { url: rx.url, types: ['*'], description: name });
  if (res.status !== 201) throw new Error(`subscribe ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const s: Subscriber = {
    name,
    id: String(res.body.id),
    secret: String(res.body.secret),
    rx,
    arrivals: [],
    acks: [],
    async down() {
      s.arrivals.push(...s.rx.requests.splice(0));
      s.acks.push(...s.rx.acknowledged.splice(0));
      await s.rx.close();
    },
    async up() {
      const next = await startWebhookReceiver(Number(new URL(s.rx.url).port));
      receivers.push(next);
      next.answer = s.rx.answer;
      next.secrets = s.rx.secrets;
      s.rx = next;
    },
  };
  rx.secrets.push(s.secret);
  return s;
}

const all = (s: Subscriber) => [...s.arrivals, ...s.rx.requests].filter((r) => r.envelope.type !== 'ping');
const acked = (s: Subscriber) => new Set([...s.acks, ...s.rx.acknowledged].map((r) => r.id));

describe('event deliveries to failing receivers', () => {
  it('nothing lost, order kept per conversation, retries bounded, 410 disables', async () => {
    const started = Date.now();
    const seed = faultSeed('event-delivery');
    const rnd = seededRandom(seed);
    const w = await createFaultWorld({
      name: 'events',
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'hello', keywords: ['hello'], reply: 'Hi! How can we help?' }] },
        escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
        events: {
          delivery: {
            backoff_min: `${BACKOFF_MIN_MS / 1000}s`,
            backoff_max: `${BACKOFF_MAX_MS / 1000}s`,
            timeout: `${TIMEOUT_MS / 1000}s`,
            concurrency: CONCURRENCY,
          },
        },
      },
    });
    world = w;
    await w.start();
    await w.setupAgent();

    const ok = () => ({ status: 204 });
    const healthy = await subscriber(w, 'healthy', ok);
    // Flaky: each answer drawn from the seed; the draw changes with the phase of the run.
    let flakyMode: 'ok' | 'errors' = 'ok';
    const flaky = await subscriber(w, 'flaky', () => {
      if (flakyMode === 'ok') return ok();
      const x = rnd();
      if (x < 0.4) return { status: 500 };
      if (x < 0.55) return { status: 204, delayMs: TIMEOUT_MS + 500 };
      if (x < 0.65) return { status: 503, body: 'try later' };
      return ok();
    });
    let goneAfter = Number.POSITIVE_INFINITY;
    let goneAnswers = 0;
    const gone = await subscriber(w, 'gone', () => {
      if (Date.now() < goneAfter) return ok();
      goneAnswers++;
      return { status: 410 };
    });
    let garbage = false;
    const odd = await subscriber(w, 'odd', () => {
      if (!garbage) return ok();
      return rnd() < 0.5
        ? { status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } }
        : { status: 200, body: '\u0000not json at all'.repeat(1000) };
    });
    const live = [healthy, flaky, odd];
    // Every public event after this one is due to every subscription.
    const baseline =
      w.query<{ seq: number | null }>('select max(seq) as seq from domain_events')[0]?.seq ?? 0;

    // The load: customers write until the end; the daemon answers "hello" (message.sent and friends).
    const stop = { done: false };
    let seq = 0;
    let posted = 0;
    let webhooksAcked = 0;
    const answers = new Map<string, number>();
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => `4917600${String(i).padStart(6, '0')}`);
    async function load(): Promise<void> {
      while (!stop.done) {
        const wa = customers[Math.floor(rnd() * customers.length)] as string;
        const id = `wamid.EVENTS${String(++seq).padStart(6, '0')}`;
        posted++;
        try {
          const res = await w.postWebhook(textDeliveryBody(wa, id, rnd() < 0.5 ? 'hello' : `note ${seq}`));
          if (res.status === 200) webhooksAcked++;
          else answers.set(String(res.status), (answers.get(String(res.status)) ?? 0) + 1);
        } catch {
          // Killed or restarting: Meta would retry; this load counts it and moves on.
          answers.set('no answer', (answers.get('no answer') ?? 0) + 1);
        }
        await sleep(20 + rnd() * 40);
      }
    }
    const loops = [load(), load()];

    // The timeline (seconds into the load), with the two kills at seeded moments.
    const at = (fraction: number) => started + fraction * LOAD_S * 1000;
    const kills = [0.3 + rnd() * 0.1, 0.65 + rnd() * 0.1].map(at);
    let killsDone = 0;
    let restarts = 0;
    const timeline: [number, () => Promise<void> | void][] = [
      [
        at(0.15),
        () => {
          flakyMode = 'errors';
        },
      ],
      [
        at(0.2),
        () => {
          garbage = true;
        },
      ],
      [
        at(0.25),
        () => {
          goneAfter = Date.now();
        },
      ],
      [at(0.45), () => flaky.down()],
      [at(0.6), () => flaky.up()],
      [
        at(0.7),
        () => {
          garbage = false;
        },
      ],
      [
        at(0.85),
        () => {
          flakyMode = 'ok';
        },
      ],
    ];
    const events: [number, () => Promise<void> | void][] = [
      ...timeline,
      ...kills.map(
        (t) =>
          [
            t,
            async () => {
              await w.kill();
              killsDone++;
              await sleep(200 + rnd() * 500);
              await w.start();
              restarts++;
            },
          ] as [number, () => Promise<void>],
      ),
    ].sort((a, b) => a[0] - b[0]);
    for (const [t, act] of events) {
      const wait = t - Date.now();
      if (wait > 0) await sleep(wait);
      await act();
    }
    const end = at(1);
    if (end > Date.now()) await sleep(end - Date.now());
    stop.done = true;
    await Promise.all(loops);
    const loadEnded = Date.now();

    // Drain: every delivery of the live subscriptions settled.
    const unsettled = () =>
      w.query<{ n: number }>(
        "select count(*) as n from event_deliveries where state = 'pending' and subscription_id in (?, ?, ?)",
        ...live.map((s) => s.id),
      )[0]?.n ?? -1;
    const inboxLeft = () =>
      w.query<{ n: number }>("select count(*) as n from inbox where state != 'processed'")[0]?.n ?? -1;
    await waitFor(() => inboxLeft() === 0, 120_000, 200);
    await waitFor(
      () => {
        const cursors = w.query<{ cursor_seq: number }>(
          'select cursor_seq from event_subscriptions where enabled = 1',
        );
        const last = w.query<{ seq: number }>('select max(seq) as seq from domain_events')[0]?.seq ?? 0;
        return (
          unsettled() === 0 &&
          cursors.every((c) => c.cursor_seq === last) &&
          live.every((s) => s.rx.pending() === 0)
        );
      },
      180_000,
      200,
    );
    const drainedS = Math.round((Date.now() - loadEnded) / 1000);

    const log = w.query<{ seq: number; id: string; conversation_id: string | null; type: string }>(
      'select seq, id, conversation_id, type from domain_events where internal = 0 order by seq',
    );
    const seqOf = new Map(log.map((e) => [e.id, e.seq]));
    const totals: Totals = {
      seed,
      load_s: LOAD_S,
      kills: killsDone,
      webhooks_posted: posted,
      webhooks_acked: webhooksAcked,
      webhooks_not_acked: JSON.stringify(Object.fromEntries(answers)),
      events_recorded: log.filter((e) => e.seq > baseline).length,
    };
    const problems: string[] = [];
    for (const s of live) {
      const arrivals = all(s);
      const created = w.query<{ id: string }>('select id from event_subscriptions where id = ?', s.id)[0];
      const due = w.query<{ event_id: string; attempts: number; state: string }>(
        'select event_id, attempts, state from event_deliveries where subscription_id = ?',
        s.id,
      );
      const expected = log.filter((e) => e.seq > baseline);
      const times = new Map<string, number>();
      for (const r of arrivals) times.set(r.id, (times.get(r.id) ?? 0) + 1);
      // Delivered means acknowledged with a 2xx at least once (an arrival answered 500 is not).
      const acks = acked(s);
      const missing = expected.filter((e) => !acks.has(e.id)).length;
      const unverified = arrivals.filter((r) => r.verified !== true || r.id !== r.envelope.id).length;
      // Order: per conversation, arrivals never go back in sequence (a retry repeats the head only).
      const last = new Map<string, number>();
      let outOfOrder = 0;
      for (const r of arrivals) {
        const key = r.envelope.conversation_id;
        const q = seqOf.get(r.id);
        if (key === null || q === undefined) continue;
        if (q < (last.get(key) ?? 0)) outOfOrder++;
        last.set(key, Math.max(q, last.get(key) ?? 0));
      }
      const errors = w.query<{ error: string | null; n: number }>(
        'select error, count(*) as n from event_delivery_attempts where subscription_id = ? and (status_code is null or status_code not between 200 and 299) group by error',
        s.id,
      );
      const attempts = w.query<{ n: number; bad: number }>(
        'select count(*) as n, sum(case when status_code between 200 and 299 then 0 else 1 end) as bad from event_delivery_attempts where subscription_id = ?',
        s.id,
      )[0] ?? { n: 0, bad: 0 };
      const maxAttempts = Math.max(0, ...due.map((d) => d.attempts));
      const dead = due.filter((d) => d.state === 'dead').length;
      const ackedDistinct = expected.filter((e) => acks.has(e.id)).length;
      const ackCount = new Map<string, number>();
      for (const r of [...s.acks, ...s.rx.acknowledged]) ackCount.set(r.id, (ackCount.get(r.id) ?? 0) + 1);
      const ackedTwice = [...ackCount.values()].filter((k) => k > 1).length;
      const extra = [...times.values()].reduce((n, k) => n + (k - 1), 0);
      Object.assign(totals, {
        [`${s.name}_events_due`]: expected.length,
        [`${s.name}_events_acknowledged`]: ackedDistinct,
        [`${s.name}_events_missing`]: missing,
        [`${s.name}_requests`]: arrivals.length,
        [`${s.name}_repeated_requests`]: extra,
        // Events the receiver acknowledged more than once (same webhook-id: a receiver dedupes them).
        [`${s.name}_acknowledged_twice`]: ackedTwice,
        [`${s.name}_failed_attempts`]: Number(attempts.bad ?? 0),
        [`${s.name}_failures`]: JSON.stringify(Object.fromEntries(errors.map((e) => [e.error, e.n]))),
        [`${s.name}_max_attempts_of_an_event`]: maxAttempts,
        [`${s.name}_dead`]: dead,
        [`${s.name}_out_of_order`]: outOfOrder,
        [`${s.name}_unverified`]: unverified,
      });
      if (missing > 0) problems.push(`${s.name}: ${missing} events never arrived`);
      if (outOfOrder > 0) problems.push(`${s.name}: ${outOfOrder} arrivals out of conversation order`);
      if (unverified > 0) problems.push(`${s.name}: ${unverified} requests failed signature checks`);
      if (dead > 0) problems.push(`${s.name}: ${dead} deliveries dead within retry_for`);
      if (created === undefined) problems.push(`${s.name}: subscription gone`);
    }
    // The healthy receiver's only duplicates come from the kills: at most what was claimed per kill.
    const healthyExtra = Number(totals.healthy_repeated_requests);
    if (healthyExtra > CONCURRENCY * killsDone) {
      problems.push(
        `healthy: ${healthyExtra} duplicates from ${killsDone} kills (bound ${CONCURRENCY * killsDone})`,
      );
    }
    // Retries bounded: between two attempts of one event at least half the backoff passes (equal jitter),
    // so over the run an event is tried at most about (run length / (backoff_max / 2)) + the doubling steps.
    const runS = (Date.now() - started) / 1000;
    const attemptBound =
      Math.ceil(runS / (BACKOFF_MAX_MS / 2000)) + Math.ceil(Math.log2(BACKOFF_MAX_MS / BACKOFF_MIN_MS)) + 2;
    totals.attempt_bound_per_event = attemptBound;
    for (const s of live) {
      const m = Number(totals[`${s.name}_max_attempts_of_an_event`]);
      if (m > attemptBound) problems.push(`${s.name}: an event tried ${m} times (bound ${attemptBound})`);
    }

    // 410: disabled, named in the runtime.status_changed event, and asked nothing more afterwards.
    const goneRow = w.query<{ enabled: number; disabled_reason: string | null }>(
      'select enabled, disabled_reason from event_subscriptions where id = ?',
      gone.id,
    )[0];
    const statusEvents = w.query<{ data: string }>(
      "select data from domain_events where type = 'runtime.status_changed' and data like ?",
      `%${gone.id}%`,
    );
    totals.gone_answers_410 = goneAnswers;
    totals.gone_disabled = goneRow?.enabled === 0;
    totals.gone_disabled_reason = goneRow?.disabled_reason ?? null;
    totals.gone_status_event = statusEvents.length;
    if (goneRow?.enabled !== 0) problems.push('gone: a 410 did not disable the subscription');
    if (statusEvents.length !== 1)
      problems.push(`gone: ${statusEvents.length} runtime.status_changed events`);
    // The requests in flight when the first 410 came may still get theirs; nothing after (a kill
    // between a 410 and its commit could send those again: one more round each).
    const goneBound = CONCURRENCY * (1 + killsDone);
    if (goneAnswers > goneBound)
      problems.push(`gone: ${goneAnswers} requests answered 410 (bound ${goneBound})`);

    const sum = (suffix: string) => live.reduce((n, s) => n + Number(totals[`${s.name}_${suffix}`]), 0);
    totals.events_missing = sum('events_missing');
    totals.events_out_of_order = sum('out_of_order');
    totals.events_acknowledged_twice = sum('acknowledged_twice');
    totals.max_attempts_of_an_event = Math.max(
      ...live.map((s) => Number(totals[`${s.name}_max_attempts_of_an_event`])),
    );
    totals.restarts = restarts;
    totals.drained_after_load_s = drainedS;
    totals.problems = problems.length;
    totals.duration_s = Math.round((Date.now() - started) / 1000);
    writeScenarioTotals('event-delivery', totals);
    console.log(`[faults] event-delivery totals ${JSON.stringify(totals)}`);
    expect(problems).toEqual([]);
    expect(Number(totals.flaky_failed_attempts)).toBeGreaterThan(0);
    expect(Number(totals.odd_failed_attempts)).toBeGreaterThan(0);
    expect(goneAnswers).toBeGreaterThan(0);
  });
});
