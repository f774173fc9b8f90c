// SPEC §5, §8 under a Cloud API outage: the fake Cloud API stops answering (its port refuses
// connections, open ones are reset) for a minute (FAULTS_OUTAGE_S) while customers keep writing and a
// campaign runs. Meanwhile webhooks still get 200, sends retry with backoff, the runtime reports
// `degraded` and the outbox shows the retries; when the API is back every send gets through once and
// nothing is lost. Only a call the API took just as it went down (its answer lost) may repeat.
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import {
  CAMPAIGNS,
  createFaultWorld,
  type FaultWorld,
  faultSeed,
  graphSendKey,
  messageSends,
  reconcileAcked,
  seededRandom,
  sleep,
  textDeliveryBody,
} from './harness.js';
import { writeScenarioTotals } from './totals.js';

const OUTAGE_S = Number(process.env.FAULTS_OUTAGE_S ?? 60);
const CUSTOMERS = 40;
const RECIPIENTS = 150;
const ANSWER_DELAY_MS = 30;
const INSIGHTS = '/api/extensions/native-whatsapp/runtime/insights';

let world: FaultWorld | undefined;
afterAll(async () => {
  await world?.close();
});

describe('the Cloud API goes down and comes back', () => {
  it(`after a ${OUTAGE_S} s outage every send gets through exactly once and nothing is lost`, async () => {
    const started = Date.now();
    const seed = faultSeed('graph-outage');
    const rnd = seededRandom(seed);
    const w = await createFaultWorld({
      name: 'outage',
      proxy: true,
      answerDelayMs: ANSWER_DELAY_MS,
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'hello', keywords: ['hello'], reply: 'Hi! How can we help?' }] },
        follow_up_rules: [{ id: 'nudge', after: '2s', text: 'Still there? Reply any time.' }],
        escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
        scheduler: { tick_every: '1s' },
        // Backoff capped at 5 s so the backlog clears soon after the API returns; enough attempts
        // that a minute of outage never exhausts them.
        outbound: {
          rate_per_second: 40,
          concurrency: 4,
          retry_base_delay: '1s',
          retry_max_delay: '5s',
          max_attempts: 50,
        },
      },
    });
    world = w;
    const proxy = w.proxy;
    if (!proxy) throw new Error('no proxy');
    await w.start();
    await w.approveTemplate();
    const agentUuid = await w.setupAgent();

    const acked = new Set<string>();
    const ackedWamids = new Set<string>();
    let seq = 0;
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => `4917400${String(i).padStart(6, '0')}`);
    async function customerWrites(): Promise<void> {
      const wa = customers[Math.floor(rnd() * customers.length)] as string;
      const id = `wamid.OUTAGE${String(++seq).padStart(6, '0')}`;
      const body = textDeliveryBody(wa, id, `hello ${seq}`);
      const res = await w.postWebhook(body);
      expect(res.status).toBe(200);
      acked.add(String(res.body.inbox_id));
      ackedWamids.add(id);
    }

    const campaign = await w.api('POST', CAMPAIGNS, {
      name: 'Outage',
      agent_uuid: agentUuid,
      template: { name: 'order_shipped', language: 'pt_BR' },
      recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({
        wa_id: `4915600${String(i).padStart(6, '0')}`,
      })),
      rate_per_second: 10,
    });
    expect(campaign.status).toBe(201);
    const campaignId = String(campaign.body.id);
    expect((await w.api('POST', `${CAMPAIGNS}/${campaignId}/start`, {})).status).toBe(200);
    for (let i = 0; i < CUSTOMERS; i++) await customerWrites();
    await waitFor(() => messageSends(w.graph).length >= 30, 60_000, 20);

    // Down.
    await proxy.down();
    const downAt = performance.timeOrigin + performance.now();
    // What the daemon itself did while the API was gone, from its own outbox: the attempts it made
    // (each one recorded on its row) and the most any row made. The fake API's count is no evidence
    // here: its port is closed, so it cannot see an attempt.
    const attemptsSum = () =>
      w.query<{ n: number | null }>('select sum(attempts) as n from outbox where "to" not like \'read:%\'')[0]
        ?.n ?? 0;
    const attemptsAtDown = attemptsSum();
    const rowsAtDown = new Map(
      w
        .query<{ id: string; attempts: number }>('select id, attempts from outbox')
        .map((r) => [r.id, r.attempts]),
    );
    let degradedSeen = false;
    let degradedSummary = '';
    let maxRetrying = 0;
    let maxAttempts = 0;
    const outageEnds = Date.now() + OUTAGE_S * 1000;
    while (Date.now() < outageEnds) {
      await customerWrites();
      const insight = await w.api('GET', INSIGHTS);
      if (insight.body.status === 'degraded') {
        degradedSeen = true;
        degradedSummary = String(insight.body.summary);
      }
      const [retrying] = w.query<{ n: number; max: number | null }>(
        "select count(*) as n, max(attempts) as max from outbox where state = 'queued' and attempts > 0",
      );
      maxRetrying = Math.max(maxRetrying, retrying?.n ?? 0);
      maxAttempts = Math.max(maxAttempts, retrying?.max ?? 0);
      await sleep(300 + rnd() * 400);
    }
    const attemptsDuringOutage = attemptsSum() - attemptsAtDown;
    // The most attempts one row made during the outage: backoff (1 s doubling to 5 s, each delay at
    // least half its nominal value) allows at most 4 + OUTAGE_S / 2.5 of them; more is a hammering loop.
    const mostAttemptsInOutage = Math.max(
      0,
      ...w
        .query<{ id: string; attempts: number }>('select id, attempts from outbox')
        .map((r) => r.attempts - (rowsAtDown.get(r.id) ?? 0)),
    );
    const attemptBound = 4 + Math.ceil(OUTAGE_S / 2.5);

    // Back.
    await proxy.restore();
    const backAt = Date.now();
    await waitFor(
      async () => {
        const [row] = w.query<Record<string, number>>(
          `select
             (select count(*) from inbox where state = 'pending') as inbox,
             (select count(*) from responder_jobs where state = 'pending') as jobs,
             (select count(*) from outbox where state in ('queued', 'sending')) as outbox,
             (select count(*) from follow_ups where state in ('scheduled', 'claimed')) as follow_ups`,
        );
        return (
          row !== undefined &&
          Object.values(row).every((n) => n === 0) &&
          (await w.api('GET', `${CAMPAIGNS}/${campaignId}`)).body.state === 'completed'
        );
      },
      180_000,
      100,
    );
    const drainedAfterS = (Date.now() - backAt) / 1000;
    const statusAfter = String((await w.api('GET', INSIGHTS)).body.status);

    // Reconcile.
    const { lost, notOnce: missingOrTwice } = reconcileAcked(w, acked, ackedWamids);
    const outbox = w.query<{ id: string; kind: string; state: string; wamid: string | null }>(
      'select id, kind, state, wamid from outbox',
    );
    // Cancelled rows are follow-ups a customer's new message made moot; anything else unsent is lost.
    const moot = (r: { kind: string; state: string }) => r.state === 'cancelled' && r.kind === 'follow_up';
    const notSent = outbox.filter((r) => r.state !== 'sent' && !moot(r));
    const cancelled = outbox.filter(moot).length;
    const fake = messageSends(w.graph);
    const sentWamids = new Set(outbox.map((r) => r.wamid));
    const perWamid = new Map<string, number>();
    for (const r of fake) {
      const id = (r.answered as { wamid?: string }).wamid ?? '';
      perWamid.set(id, (perWamid.get(id) ?? 0) + 1);
    }
    const recordedTwice = outbox.filter((r) => r.wamid && perWamid.get(r.wamid) !== 1);
    // Calls the API took whose answer never came back: only those in flight when it went down.
    const orphans = fake.filter((r) => !sentWamids.has((r.answered as { wamid?: string }).wamid ?? ''));
    const orphansOutside = orphans.filter(
      (r) => r.receivedAt < downAt - ANSWER_DELAY_MS - 1000 || r.receivedAt > downAt,
    );
    const perKey = new Map<string, number>();
    for (const r of fake) perKey.set(graphSendKey(r.body), (perKey.get(graphSendKey(r.body)) ?? 0) + 1);
    const campaignTwice = [...perKey].filter(([k, n]) => k.includes('campaign:') && n > 1);

    writeScenarioTotals('graph-outage', {
      seed,
      outage_s: OUTAGE_S,
      deliveries_acked: acked.size,
      deliveries_lost: lost.length,
      inbound_messages_present_once: ackedWamids.size - missingOrTwice.length,
      degraded_during_outage: degradedSeen,
      degraded_summary: degradedSummary,
      status_after_recovery: statusAfter,
      max_rows_waiting_to_retry: maxRetrying,
      max_attempts_of_a_row: maxAttempts,
      send_attempts_during_outage: attemptsDuringOutage,
      most_attempts_of_a_row_during_outage: mostAttemptsInOutage,
      outbox_rows: outbox.length,
      outbox_rows_cancelled_by_customer_reply: cancelled,
      outbox_rows_not_sent: notSent.length,
      sends_at_fake_api: fake.length,
      answers_lost_at_outage_start: orphans.length,
      answers_lost_outside_that_moment: orphansOutside.length,
      campaign_recipients_sent_twice: campaignTwice.length,
      drained_after_recovery_s: Math.round(drainedAfterS * 10) / 10,
      duration_s: Math.round((Date.now() - started) / 1000),
    });

    expect(lost).toEqual([]);
    expect(missingOrTwice).toEqual([]);
    expect(degradedSeen).toBe(true);
    expect(maxRetrying).toBeGreaterThan(0);
    // The daemon kept retrying (it did not give up or park silently) and within its backoff.
    expect(attemptsDuringOutage).toBeGreaterThan(0);
    expect(mostAttemptsInOutage).toBeLessThanOrEqual(attemptBound);
    expect(notSent).toEqual([]);
    expect(recordedTwice).toEqual([]);
    expect(orphansOutside).toEqual([]);
    expect(statusAfter).toBe('active');
  });
});
