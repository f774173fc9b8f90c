// SPEC §5, §9 under kill -9: 20 rounds of a mixed load (signed webhooks from many customers with
// Meta's duplicates and retries, statuses, manual replies through runtime/execute, auto-replies,
// follow-ups coming due on the real clock, one campaign) against the built daemon, each ended by
// SIGKILL at a seeded random moment, then a restart on the same database, a drain, and a full
// reconciliation of the database against what the load was told (200 / 202) and what the fake Cloud
// API received: every acknowledged delivery present once, every send at most once except the one
// window SPEC §5 allows (the row was `sending` at the kill), nothing acknowledged lost.
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import {
  CAMPAIGNS,
  createFaultWorld,
  type FaultWorld,
  faultSeed,
  outboxSendKey,
  seededRandom,
  sleep,
} from './harness.js';
import { reconcile as reconcileRun } from './reconcile.js';
import { type Totals, writeScenarioTotals } from './totals.js';
import { createTraffic } from './traffic.js';

const ROUNDS = Number(process.env.FAULTS_ROUNDS ?? 20);
const CUSTOMERS = 80;
const RECIPIENTS = 300;
const AUTO_REPLY = 'Hi! How can we help?';
const NUDGES = ['Still there? Reply any time.', 'Anything else we can do for you?'];

let world: FaultWorld | undefined;
afterAll(async () => {
  await world?.close();
});

describe('kill -9 at random moments under a mixed load', () => {
  it(`${ROUNDS} rounds: every acknowledged delivery present once, sends at most once outside SPEC §5's window`, async () => {
    const started = Date.now();
    const seed = faultSeed('kill-rounds');
    const rnd = seededRandom(seed);
    const w = await createFaultWorld({
      name: 'kill',
      answerDelayMs: 40,
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'hello', keywords: ['hello'], reply: AUTO_REPLY }] },
        follow_up_rules: [
          // Uncapped in practice, so every round's silences get their follow-ups.
          { id: 'nudge', after: '1s', text: NUDGES[0], max_per_conversation: 100 },
          { id: 'nudge-again', after: '2s', text: NUDGES[1], max_per_conversation: 100 },
        ],
        escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
        scheduler: { tick_every: '1s' },
        outbound: { rate_per_second: 80, concurrency: 4 },
      },
    });
    world = w;
    await w.start();
    await w.approveTemplate();
    const agentUuid = await w.setupAgent();
    const campaignRecipients = Array.from(
      { length: RECIPIENTS },
      (_, i) => `4915500${String(i).padStart(6, '0')}`,
    );
    const created = await w.api('POST', CAMPAIGNS, {
      name: 'Fault suite',
      agent_uuid: agentUuid,
      template: { name: 'order_shipped', language: 'pt_BR' },
      recipients: campaignRecipients.map((wa_id) => ({ wa_id })),
      rate_per_second: 25,
    });
    expect(created.status).toBe(201);
    const campaignId = String(created.body.id);
    const campaignState = async () => String((await w.api('GET', `${CAMPAIGNS}/${campaignId}`)).body.state);

    // What the load was told.
    const traffic = createTraffic({
      rnd,
      customers: CUSTOMERS,
      customerPrefix: '4917300',
      wamidPrefix: 'FAULT',
      text: (n) => `hello, question ${n} — grüße 👋`,
      graph: () => w.graph,
      postWebhook: (body) => w.postWebhook(body),
      api: (method, p, body) => w.api(method, p, body),
      query: (sql) => w.query(sql),
      agentUuid,
    });
    const { ackedInbox, ackedWamids, ackedStatuses, ackedReplies, counts } = traffic;
    const { webhookLoop, replyLoop } = traffic;

    const sendingAtKill: { round: number; id: string; key: string }[] = [];
    const restartMs: number[] = [];
    let kills = 0;
    let killsDuringRecovery = 0;

    /** SIGKILL now; the rows it leaves `sending` are SPEC §5's window. */
    async function killAndNote(round: number) {
      await w.kill();
      kills++;
      for (const r of w.query<{ id: string; to: string; payload: string }>(
        'select id, "to", payload from outbox where state = \'sending\'',
      ))
        sendingAtKill.push({ round, id: r.id, key: outboxSendKey(r.to, r.payload) });
    }

    async function restart() {
      const t0 = Date.now();
      await w.start();
      restartMs.push(Date.now() - t0);
    }

    async function drained(timeoutMs = 90_000) {
      await waitFor(
        () => {
          const [row] = w.query<Record<string, number>>(
            `select
               (select count(*) from inbox where state = 'pending') as inbox,
               (select count(*) from responder_jobs where state = 'pending') as jobs,
               (select count(*) from outbox where state in ('queued', 'sending')) as outbox,
               (select count(*) from follow_ups where state in ('scheduled', 'claimed')) as follow_ups`,
          );
          return row !== undefined && Object.values(row).every((n) => n === 0);
        },
        timeoutMs,
        50,
      );
    }

    const acked = { inbox: ackedInbox, wamids: ackedWamids, statuses: ackedStatuses, replies: ackedReplies };
    const reconcile = () => reconcileRun(w.query, w.graph, acked, sendingAtKill);

    let last = await reconcile();
    for (let round = 1; round <= ROUNDS; round++) {
      const state = await campaignState();
      if (state === 'draft')
        expect((await w.api('POST', `${CAMPAIGNS}/${campaignId}/start`, {})).status).toBe(200);
      if (state === 'paused')
        expect((await w.api('POST', `${CAMPAIGNS}/${campaignId}/resume`, {})).status).toBe(200);
      const stop = { done: false };
      const loops = [webhookLoop(stop), webhookLoop(stop), webhookLoop(stop), replyLoop(stop)];
      const killAfter = 300 + Math.floor(rnd() * 2200);
      await sleep(killAfter);
      await killAndNote(round);
      stop.done = true;
      await Promise.all(loops);
      await restart();
      if (rnd() < 0.3) {
        // Now and then a second kill while the restarted daemon works through what the first one left.
        await sleep(Math.floor(rnd() * 500));
        await killAndNote(round);
        killsDuringRecovery++;
        await restart();
      }
      // The campaign rests while the backlog drains, so the reconciliation sees a still world.
      if ((await campaignState()) === 'running') {
        expect((await w.api('POST', `${CAMPAIGNS}/${campaignId}/pause`, {})).status).toBe(200);
      }
      await drained();
      last = await reconcile();
      const n = last.numbers;
      console.log(
        `[faults] round ${round}/${ROUNDS}: killed after ${killAfter} ms, restart ${restartMs.at(-1)} ms; acked ${n.deliveries_acked} deliveries, ${n.manual_replies_acked} replies; sends ${n.sends_at_fake_api} (in window ${n.double_sends_inside_window}, outside ${n.double_sends_outside_window}); problems ${last.problems.length}`,
      );
      expect(last.problems, `round ${round}`).toEqual([]);
    }

    // The campaign finishes; nothing is left anywhere.
    if ((await campaignState()) === 'paused') {
      expect((await w.api('POST', `${CAMPAIGNS}/${campaignId}/resume`, {})).status).toBe(200);
    }
    await waitFor(async () => (await campaignState()) === 'completed', 120_000, 200);
    await drained();
    last = await reconcile();
    const campaign = (await w.api('GET', `${CAMPAIGNS}/${campaignId}`)).body as {
      counts: Record<string, number>;
    };
    const recipientsSent = w.query<{ n: number }>(
      "select count(distinct campaign_recipient_id) as n from outbox where state = 'sent' and campaign_recipient_id is not null",
    )[0]?.n;
    const totals: Totals = {
      seed,
      rounds: ROUNDS,
      kills,
      kills_during_recovery: killsDuringRecovery,
      restart_ms_median: [...restartMs].sort((a, b) => a - b)[Math.floor(restartMs.length / 2)] ?? null,
      restart_ms_max: Math.max(...restartMs),
      deliveries_posted: counts.posted,
      deliveries_refused_503: counts.refused,
      deliveries_unreachable_at_kill: counts.unreachable,
      duplicate_deliveries_acked: counts.duplicates_acked,
      ...last.numbers,
      manual_replies_refused: counts.replies_refused,
      campaign_recipients: RECIPIENTS,
      campaign_recipients_distinct_sent: recipientsSent ?? 0,
      campaign_state: await campaignState(),
      problems: last.problems.length,
      duration_s: Math.round((Date.now() - started) / 1000),
    };
    writeScenarioTotals('kill-rounds', totals);
    console.log(`[faults] kill-rounds totals ${JSON.stringify(totals)}`);

    expect(last.problems).toEqual([]);
    expect(last.numbers.double_sends_outside_window).toBe(0);
    expect(last.numbers.deliveries_lost).toBe(0);
    expect(last.numbers.inbound_messages_present).toBe(ackedWamids.size);
    expect(campaign.counts.queued).toBe(0);
    expect(recipientsSent).toBe(RECIPIENTS);
    // The load did what it is for: deliveries, replies, follow-ups and campaign sends all happened.
    expect(last.numbers.deliveries_acked).toBeGreaterThan(ROUNDS * 10);
    expect(last.numbers.manual_replies_sent).toBeGreaterThan(0);
    expect(last.numbers.follow_ups_sent).toBeGreaterThan(0);
    expect(last.numbers.auto_replies_sent).toBeGreaterThan(0);
  });
});
