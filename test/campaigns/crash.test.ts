// SPEC §7, §9: a campaign send happens once per recipient, across kill -9 and restart. The built
// daemon runs a campaign against the fake Cloud API (real HTTP, counting every request) and is
// killed with SIGKILL mid-campaign; after a restart on the same database the campaign completes and
// every recipient was sent exactly once. The one exception SPEC §5 allows: a send the API received
// whose answer the daemon never recorded (in flight at the kill) may go out again.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { signBody } from '../../src/webhook/signature.js';
import { type DaemonProcess, killAll, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';
import { type FakeGraphApi, startFakeGraphApi } from '../helpers/fake-graph-api.js';
import { FIXTURE_DIR, PNID } from '../webhook/deliveries.js';

const SECRET = 'campaign_crash_secret_0123456789';
const ROOT = 'root_token_for_the_campaign_crash_0123';
const RECIPIENTS = 300;
const ANSWER_DELAY_MS = 100;
const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';

let dir: string | undefined;
let graph: FakeGraphApi | undefined;
const running: DaemonProcess[] = [];

afterEach(async () => {
  await killAll(running);
  await graph?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const toOf = (body: unknown) => (body as { to?: string }).to ?? '';

async function api(
  url: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${p}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${ROOT}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('kill -9 in the middle of a campaign', () => {
  it('after a restart the campaign completes and every recipient was sent exactly once', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nwa-campaign-crash-'));
    graph = await startFakeGraphApi();
    graph.setDefault({ accept: true, delayMs: ANSWER_DELAY_MS });
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ outbound: { rate_per_second: 100, concurrency: 4 } }));
    const env = {
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      CONFIG_PATH: configFile,
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_ACCESS_TOKEN: 'EAAcampaign_crash_token_0123456789',
      WHATSAPP_API_BASE_URL: graph.url,
      API_ROOT_TOKEN: ROOT,
      LOG_LEVEL: 'warn',
    };
    const first = await startDaemonProcess(env);
    running.push(first);

    // The template is approved the way Meta says so.
    const approval = readFileSync(path.join(FIXTURE_DIR, 'field_message_template_status_approved.json'));
    const hook = await fetch(`${first.url}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(approval, SECRET) },
      body: approval,
    });
    expect(hook.status).toBe(200);
    const agent = await api(first.url, '/api/agents', { name: 'Marketing', phone_number_id: PNID });
    expect(agent.status).toBe(201);
    const install = await api(first.url, '/api/marketplace/extensions/install', {
      offerId: 1,
      agentUuid: agent.body.uuid,
      installMode: 'purchase',
    });
    expect(install.status).toBe(201);

    const customers = Array.from({ length: RECIPIENTS }, (_, i) => `4915400${String(i).padStart(6, '0')}`);
    let created: { status: number; body: Record<string, unknown> } | undefined;
    await waitFor(async () => {
      // The approval webhook is applied from the inbox shortly after its 200.
      created = await api(first.url, BASE, {
        name: 'Crash test',
        agent_uuid: agent.body.uuid,
        template: { name: 'order_shipped', language: 'pt_BR' },
        recipients: customers.map((wa_id) => ({ wa_id })),
        rate_per_second: 50,
      });
      return created.status === 201;
    }, 10_000);
    const id = String(created?.body.id);
    expect((await api(first.url, `${BASE}/${id}/start`, {})).status).toBe(200);

    const sends = () => (graph as FakeGraphApi).requests.filter((r) => r.path.endsWith('/messages'));
    await waitFor(() => sends().length >= 80, 60_000, 5);
    first.child.kill('SIGKILL');
    const killedAt = performance.timeOrigin + performance.now();
    await first.exited;
    const beforeRestart = sends().length;
    // What the daemon itself had handed to the API without recording the answer when it died: SPEC §5's
    // one duplicate window. Read from its database, so a loaded box that stretches the window in time
    // does not turn a permitted repeat into a failure.
    const dbAtKill = new SQLite(env.DATABASE_PATH as string, { readonly: true });
    const sendingAtKill = new Set(
      (dbAtKill.prepare('select "to" from outbox where state = \'sending\'').all() as { to: string }[]).map(
        (r) => r.to,
      ),
    );
    dbAtKill.close();
    expect(beforeRestart).toBeLessThan(RECIPIENTS); // killed mid-campaign

    const second = await startDaemonProcess(env);
    running.push(second);
    await waitFor(
      async () => (await api(second.url, `${BASE}/${id}`)).body.state === 'completed',
      90_000,
      100,
    );
    const campaign = (await api(second.url, `${BASE}/${id}`)).body as { counts: Record<string, number> };
    expect(campaign.counts).toMatchObject({ queued: 0, sent: RECIPIENTS, failed: 0 });

    const inFlight = new Set([
      ...sendingAtKill,
      ...sends()
        .filter((r) => r.receivedAt <= killedAt && r.receivedAt + ANSWER_DELAY_MS + 50 >= killedAt)
        .map((r) => toOf(r.body)),
    ]);
    const perCustomer = new Map<string, number>();
    for (const r of sends()) perCustomer.set(toOf(r.body), (perCustomer.get(toOf(r.body)) ?? 0) + 1);
    for (const wa of customers) {
      const n = perCustomer.get(wa) ?? 0;
      if (inFlight.has(wa)) expect(n, wa).toBeLessThanOrEqual(2);
      else expect(n, wa).toBe(1);
    }
    // Only sends in flight at the kill can repeat, and at most `concurrency` (4) were in flight.
    const duplicates = [...perCustomer.values()].filter((n) => n > 1).length;
    expect(duplicates).toBeLessThanOrEqual(4);
  }, 180_000);
});
