// SPEC §10 under kill -9: three daemons on one PostgreSQL database behind a round-robin proxy
// (round-robin-proxy.ts), 10 rounds of the mixed load of kill-rounds.test.ts (signed webhooks from
// many customers with Meta's duplicates and retries, statuses, manual replies, auto-replies, follow-ups
// on the real clock, one campaign), each round killing a random instance with SIGKILL while the load
// goes on through the others, then restarting it (same INSTANCE_ID), draining and reconciling: every
// acknowledged delivery present once, every send at most once outside SPEC §5's window (a row the
// killed instance had `sending`), every follow-up once per silence. Runs when TEST_DATABASE_URL is set.
// FAULTS_DEBUG_DIR=<dir> keeps the database (its URL is printed) and writes every daemon's output, the
// fake API's calls and the kill snapshots into <dir>, to trace a failed round row by row.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/webhook/signature.js';
import {
  type DaemonProcess,
  freePort,
  killAll,
  startDaemonProcess,
  waitFor,
} from '../helpers/daemon-process.js';
import { createPostgresTestDatabase, type PostgresTestDatabase } from '../helpers/engines.js';
import { type FakeGraphApi, startFakeGraphApi } from '../helpers/fake-graph-api.js';
import { FIXTURE_DIR } from '../webhook/deliveries.js';
import {
  CAMPAIGNS,
  faultSeed,
  outboxSendKey,
  PNID,
  ROOT_TOKEN,
  SECRET,
  seededRandom,
  sleep,
} from './harness.js';
import { reconcile as reconcileRun } from './reconcile.js';
import { type RoundRobinProxy, startRoundRobinProxy } from './round-robin-proxy.js';
import { type Totals, writeScenarioTotals } from './totals.js';
import { createTraffic } from './traffic.js';

const ROUNDS = Number(process.env.FAULTS_ROUNDS ?? 10);
const INSTANCES = 3;
const CUSTOMERS = 80;
const RECIPIENTS = 300;
const AUTO_REPLY = 'Hi! How can we help?';
const NUDGES = ['Still there? Reply any time.', 'Anything else we can do for you?'];

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)(
  'three instances on PostgreSQL behind a round-robin proxy',
  () => {
    it(`${ROUNDS} rounds of kill -9 of a random instance: every acknowledged delivery once, no send twice outside SPEC §5's window`, async () => {
      const started = Date.now();
      const mark = (what: string) => console.log(`[faults] instances: ${what} at ${Date.now() - started} ms`);
      const seed = faultSeed('instances');
      const rnd = seededRandom(seed);
      const dir = mkdtempSync(path.join(tmpdir(), 'nwa-faults-instances-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const database: PostgresTestDatabase = await createPostgresTestDatabase();
      if (!process.env.FAULTS_DEBUG_DIR) cleanup.push(() => database.drop());
      else console.log(`[faults] DEBUG database ${database.url}`);
      mark('database ready');
      const pool = new pg.Pool({ connectionString: database.url, max: 3 });
      cleanup.push(() => pool.end());
      const query = async <T>(sql: string, ...params: unknown[]): Promise<T[]> =>
        (await pool.query(sql, params)).rows as T[];
      const graph: FakeGraphApi = await startFakeGraphApi();
      cleanup.push(() => graph.close());
      graph.setDefault({ accept: true, delayMs: 40 });
      const configFile = path.join(dir, 'config.json');
      writeFileSync(
        configFile,
        JSON.stringify({
          runtime: { automation_mode: 'autonomous' },
          responder: { rules: [{ id: 'hello', keywords: ['hello'], reply: AUTO_REPLY }] },
          follow_up_rules: [
            { id: 'nudge', after: '1s', text: NUDGES[0], max_per_conversation: 100 },
            { id: 'nudge-again', after: '2s', text: NUDGES[1], max_per_conversation: 100 },
          ],
          escalation: { unanswered_messages: null, sentiment_threshold: null, sla: null },
          // Short leases: an instance killed mid-claim leaves work another instance takes over soon.
          scheduler: { tick_every: '1s', lease: '5s' },
          outbound: { rate_per_second: 80, concurrency: 4 },
          media: { dir: path.join(dir, 'media') },
        }),
      );
      const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
      const envOf = (i: number) => ({
        DATABASE_URL: database.url,
        DATABASE_PATH: path.join(dir, 'unused.sqlite'),
        INSTANCE_ID: `inst-${i + 1}`,
        PORT: String(ports[i]),
        CONFIG_PATH: configFile,
        WHATSAPP_APP_SECRET: SECRET,
        WHATSAPP_ACCESS_TOKEN: 'EAAfaults_token_0123456789abcdef',
        WHATSAPP_API_BASE_URL: graph.url,
        API_ROOT_TOKEN: ROOT_TOKEN,
        LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn',
      });
      const running: (DaemonProcess | undefined)[] = [];
      const all: DaemonProcess[] = [];
      cleanup.push(() => killAll(all));
      const dbg = process.env.FAULTS_DEBUG_DIR;
      if (dbg) {
        cleanup.push(async () => {
          for (const [k, d] of all.entries()) {
            writeFileSync(path.join(dbg, `daemon-${k}.out`), d.stdout());
            writeFileSync(path.join(dbg, `daemon-${k}.err`), d.stderr());
          }
          writeFileSync(path.join(dbg, 'graph.json'), JSON.stringify(graph.requests));
          writeFileSync(
            path.join(dbg, 'sendingAtKill.json'),
            JSON.stringify({ sendingAtKill, order: all.map((d) => d.port) }),
          );
        });
      }
      const start = async (i: number) => {
        const d = await startDaemonProcess(envOf(i), { waitReady: false });
        all.push(d);
        running[i] = d;
        // Probed while it starts, as a balancer's health check would be (the port is held from the start).
        // Like startDaemonProcess's wait, but each probe has a timeout and a failure shows the output.
        await waitFor(async () => {
          if (d.child.exitCode !== null)
            throw new Error(`inst-${i + 1} exited with ${d.child.exitCode}: ${d.stderr()}`);
          const res = await fetch(`${d.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(
            () => undefined,
          );
          return res?.status === 200;
        }, 30_000).catch((err: Error) => {
          throw new Error(
            `inst-${i + 1} not ready: ${err.message}\n${d.stderr()}${d.stdout()}`.slice(0, 4000),
          );
        });
      };
      // One at a time at first: the first migrates (the others would wait on the advisory lock).
      for (let i = 0; i < INSTANCES; i++) await start(i);
      mark('instances ready');
      const proxy: RoundRobinProxy = await startRoundRobinProxy(ports);
      cleanup.push(() => proxy.close());

      async function api(method: string, p: string, body?: unknown) {
        const res = await fetch(`${proxy.url}${p}`, {
          method,
          headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
        return { status: res.status, body: parsed };
      }
      async function postWebhook(body: Buffer) {
        const res = await fetch(`${proxy.url}/webhooks/whatsapp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
          body,
        });
        return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
      }

      // Setup through the proxy, like any client.
      const approval = await postWebhook(
        readFileSync(path.join(FIXTURE_DIR, 'field_message_template_status_approved.json')),
      );
      expect(approval.status).toBe(200);
      await waitFor(
        async () => (await query("select 1 from templates where status = 'APPROVED'")).length > 0,
        20_000,
        50,
      );
      const agent = await api('POST', '/api/agents', { name: 'Support', phone_number_id: PNID });
      expect(agent.status).toBe(201);
      const agentUuid = String(agent.body.uuid);
      const install = await api('POST', '/api/marketplace/extensions/install', {
        offerId: 1,
        agentUuid,
        installMode: 'purchase',
      });
      expect(install.status).toBe(201);
      const created = await api('POST', CAMPAIGNS, {
        name: 'Fault suite (instances)',
        agent_uuid: agentUuid,
        template: { name: 'order_shipped', language: 'pt_BR' },
        recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({
          wa_id: `4915600${String(i).padStart(6, '0')}`,
        })),
        rate_per_second: 25,
      });
      expect(created.status).toBe(201);
      const campaignId = String(created.body.id);
      /**
       * A campaign command through the balancer. A 500 is retried (as a client would) and counted, with
       * the error the daemons logged, so the totals say how often it happened.
       */
      const campaignErrors: string[] = [];
      const campaignAction = async (action: 'start' | 'pause' | 'resume') => {
        for (let attempt = 1; ; attempt++) {
          const res = await api('POST', `${CAMPAIGNS}/${campaignId}/${action}`, {});
          // "Pause if running" is not atomic from outside: the campaign may complete between the read
          // and the pause, which is then refused (409, naming the state it is in now). Nothing to pause.
          if (action === 'pause' && res.status === 409 && (await campaignState()) === 'completed') return;
          if (res.status === 200 || attempt === 5) {
            expect(res.status, `${action}: ${campaignErrors.join(' | ')}`).toBe(200);
            return;
          }
          const logged = all
            .flatMap((d) => d.stdout().split('\n'))
            .filter((l) => l.includes('"level":"error"'))
            .slice(-1);
          campaignErrors.push(
            `${action} ${res.status} ${JSON.stringify(res.body)} ${logged.join('').slice(0, 600)}`,
          );
          await sleep(200);
        }
      };
      const campaignState = async () => String((await api('GET', `${CAMPAIGNS}/${campaignId}`)).body.state);

      const traffic = createTraffic({
        rnd,
        customers: CUSTOMERS,
        customerPrefix: '4917400',
        wamidPrefix: 'INST',
        text: (n) => `hello, question ${n}`,
        graph: () => graph,
        postWebhook,
        api,
        query,
        agentUuid,
        drainRetriesOnStop: true,
      });
      const { ackedInbox, ackedWamids, ackedStatuses, ackedReplies, counts } = traffic;
      const { webhookLoop, replyLoop } = traffic;

      const sendingAtKill: { round: number; id: string; key: string }[] = [];
      const restartMs: number[] = [];
      let kills = 0;

      async function kill(round: number, i: number) {
        const d = running[i] as DaemonProcess;
        d.child.kill('SIGKILL');
        await d.exited;
        running[i] = undefined;
        kills++;
        // SPEC §5's window: the rows the killed instance had marked `sending` (their answer is lost).
        for (const r of await query<{ id: string; to: string; payload: string }>(
          `select id, "to", payload from outbox where state = 'sending' and lease_owner = $1`,
          `inst-${i + 1}`,
        ))
          sendingAtKill.push({ round, id: r.id, key: outboxSendKey(r.to, r.payload) });
      }

      async function drained(timeoutMs = 120_000) {
        let left: Record<string, string | number> | undefined;
        await waitFor(
          async () => {
            const [row] = await query<Record<string, string | number>>(
              `select
               (select count(*) from inbox where state = 'pending') as inbox,
               (select count(*) from responder_jobs where state = 'pending') as jobs,
               (select count(*) from outbox where state in ('queued', 'sending')) as outbox,
               (select count(*) from follow_ups where state in ('scheduled', 'claimed')) as follow_ups`,
            );
            left = row;
            return row !== undefined && Object.values(row).every((n) => Number(n) === 0);
          },
          timeoutMs,
          100,
        ).catch((err: Error) => {
          throw new Error(`not drained: ${JSON.stringify(left)} (${err.message})`);
        });
      }

      const acked = {
        inbox: ackedInbox,
        wamids: ackedWamids,
        statuses: ackedStatuses,
        replies: ackedReplies,
      };
      const reconcile = () => reconcileRun(query, graph, acked, sendingAtKill);

      let last = await reconcile();
      for (let round = 1; round <= ROUNDS; round++) {
        const state = await campaignState();
        if (state === 'draft') await campaignAction('start');
        if (state === 'paused') await campaignAction('resume');
        const stop = { done: false };
        const loops = [webhookLoop(stop), webhookLoop(stop), webhookLoop(stop), replyLoop(stop)];
        const killAfter = 300 + Math.floor(rnd() * 2200);
        await sleep(killAfter);
        const victim = Math.floor(rnd() * INSTANCES);
        await kill(round, victim);
        // The load goes on through the other two while the victim is down.
        await sleep(500 + Math.floor(rnd() * 1000));
        stop.done = true;
        await Promise.all(loops);
        const t0 = Date.now();
        await start(victim);
        restartMs.push(Date.now() - t0);
        if ((await campaignState()) === 'running') await campaignAction('pause');
        await drained();
        last = await reconcile();
        const n = last.numbers;
        console.log(
          `[faults] instances round ${round}/${ROUNDS}: killed inst-${victim + 1} after ${killAfter} ms; acked ${n.deliveries_acked} deliveries, ${n.manual_replies_acked} replies; sends ${n.sends_at_fake_api} (in window ${n.double_sends_inside_window}, outside ${n.double_sends_outside_window}); problems ${last.problems.length}`,
        );
        if (last.problems.length > 0) {
          // What the daemons logged at warn and above, to tell a failed settle from a lease takeover.
          for (const [i, d] of all.entries())
            for (const line of d
              .stdout()
              .split('\n')
              .filter((l) => /"level":"(warn|error)"/.test(l))
              .slice(-40))
              console.log(`[faults] instances daemon ${i} log: ${line.slice(0, 1500)}`);
        }
        expect(last.problems, `round ${round}`).toEqual([]);
      }

      if ((await campaignState()) === 'paused') await campaignAction('resume');
      await waitFor(async () => (await campaignState()) === 'completed', 120_000, 200);
      await drained();
      last = await reconcile();
      const recipientsSent = Number(
        (
          await query<{ n: string }>(
            "select count(distinct campaign_recipient_id) as n from outbox where state = 'sent' and campaign_recipient_id is not null",
          )
        )[0]?.n ?? 0,
      );
      const processedBy = await query<{ owner: string | null; n: string }>(
        "select lease_owner as owner, count(*) as n from inbox where state = 'processed' group by lease_owner order by lease_owner",
      );
      const totals: Totals = {
        seed,
        engine: 'postgres',
        instances: INSTANCES,
        rounds: ROUNDS,
        kills,
        restart_ms_median: [...restartMs].sort((a, b) => a - b)[Math.floor(restartMs.length / 2)] ?? null,
        restart_ms_max: Math.max(...restartMs),
        deliveries_posted: counts.posted,
        deliveries_refused_503: counts.refused,
        deliveries_unreachable_at_kill: counts.unreachable,
        duplicate_deliveries_acked: counts.duplicates_acked,
        ...last.numbers,
        manual_replies_refused: counts.replies_refused,
        campaign_recipients: RECIPIENTS,
        campaign_recipients_distinct_sent: recipientsSent,
        campaign_state: await campaignState(),
        proxy_connections: [...proxy.connections.entries()]
          .map(([port, n]) => `inst-${ports.indexOf(port) + 1}:${n}`)
          .join(' '),
        inbox_processed_by: processedBy.map((r) => `${r.owner ?? 'none'}:${r.n}`).join(' '),
        campaign_command_errors: campaignErrors.length,
        problems: last.problems.length,
        duration_s: Math.round((Date.now() - started) / 1000),
      };
      writeScenarioTotals('instances', totals);
      console.log(`[faults] instances totals ${JSON.stringify(totals)}`);
      for (const e of campaignErrors) console.log(`[faults] instances campaign command error: ${e}`);

      expect(last.problems).toEqual([]);
      expect(last.numbers.double_sends_outside_window).toBe(0);
      expect(last.numbers.deliveries_lost).toBe(0);
      expect(last.numbers.inbound_messages_present).toBe(ackedWamids.size);
      expect(recipientsSent).toBe(RECIPIENTS);
      expect(last.numbers.deliveries_acked).toBeGreaterThan(ROUNDS * 10);
      expect(last.numbers.manual_replies_sent).toBeGreaterThan(0);
      expect(last.numbers.follow_ups_sent).toBeGreaterThan(0);
      expect(last.numbers.auto_replies_sent).toBeGreaterThan(0);
    });
  },
);
