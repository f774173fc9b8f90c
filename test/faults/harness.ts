// The fault suite's world: the built daemon as a child process on a temp database, the fake Cloud API
// (a real HTTP server recording every call and the wamid it answered with), optionally behind a proxy
// that can go down, signed webhooks, API calls, read-only queries against the daemon's database, and
// the seeded randomness every scenario draws from (FAULTS_SEED replays a run).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { type DaemonProcess, killAll, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';
import { type FakeGraphApi, startFakeGraphApi } from '../helpers/fake-graph-api.js';
import { deliveryOf, FIXTURE_DIR, messagesChange, PNID } from '../webhook/deliveries.js';
import { type SwitchableProxy, startSwitchableProxy } from './switchable-proxy.js';

export const SECRET = 'faults_app_secret_0123456789abcdef';
export const ROOT_TOKEN = 'faults_root_token_0123456789abcdef';
export const CAMPAIGNS = '/api/extensions/native-whatsapp/runtime/campaigns';
export const EXECUTE = '/api/extensions/native-whatsapp/runtime/execute';
export { PNID };

/** One text message from `wa` as Meta sends it (escaped JSON), ready to sign and post. */
export function textDeliveryBody(wa: string, wamid: string, text: string): Buffer {
  return Buffer.from(
    toMetaJson(
      deliveryOf([
        messagesChange(
          [{ wa_id: wa }],
          [{ from: wa, id: wamid, timestamp: Math.floor(Date.now() / 1000), body: text }],
        ),
      ]),
    ),
  );
}

/** mulberry32: small, fast, good enough to pick moments and customers reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FAULTS_SEED when set (to replay a run), else a fresh one; printed either way. */
export function faultSeed(scenario: string): number {
  const given = process.env.FAULTS_SEED;
  const seed = given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  console.log(`[faults] ${scenario}: seed ${seed} (replay with FAULTS_SEED=${seed})`);
  return seed;
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface FaultWorld {
  dir: string;
  dbFile: string;
  graph: FakeGraphApi;
  proxy: SwitchableProxy | undefined;
  env: Record<string, string>;
  daemon(): DaemonProcess;
  start(): Promise<DaemonProcess>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  api(method: string, p: string, body?: unknown): Promise<ApiAnswer>;
  postWebhook(body: Buffer): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  /** A read-only query on the daemon's database (WAL: safe next to the running daemon). */
  query<T>(sql: string, ...params: unknown[]): T[];
  /** The agent that owns PNID, with an active attachment. */
  setupAgent(): Promise<string>;
  /** Approves the fixture template (order_shipped, pt_BR) the way Meta does: a signed webhook. */
  approveTemplate(): Promise<void>;
  close(): Promise<void>;
}

export async function createFaultWorld(options: {
  name: string;
  config: Record<string, unknown>;
  /** Put a switchable proxy between the daemon and the fake Cloud API. */
  proxy?: boolean;
  answerDelayMs?: number;
}): Promise<FaultWorld> {
  const dir = mkdtempSync(path.join(tmpdir(), `nwa-faults-${options.name}-`));
  const dbFile = path.join(dir, 'db.sqlite');
  const graph = await startFakeGraphApi();
  graph.setDefault({ accept: true, delayMs: options.answerDelayMs ?? 40 });
  const proxy = options.proxy ? await startSwitchableProxy(Number(new URL(graph.url).port)) : undefined;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(options.config));
  const env = {
    DATABASE_PATH: dbFile,
    CONFIG_PATH: configFile,
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_ACCESS_TOKEN: 'EAAfaults_token_0123456789abcdef',
    WHATSAPP_API_BASE_URL: proxy?.url ?? graph.url,
    API_ROOT_TOKEN: ROOT_TOKEN,
    LOG_LEVEL: 'warn',
  };
  const running: DaemonProcess[] = [];
  let current: DaemonProcess | undefined;
  let readonlyDb: SQLite.Database | undefined;

  const world: FaultWorld = {
    dir,
    dbFile,
    graph,
    proxy,
    env,
    daemon() {
      if (!current) throw new Error('no daemon running');
      return current;
    },
    async start() {
      current = await startDaemonProcess(env);
      running.push(current);
      return current;
    },
    async kill() {
      const d = world.daemon();
      d.child.kill('SIGKILL');
      await d.exited;
      running.splice(running.indexOf(d), 1);
      current = undefined;
    },
    async api(method, p, body) {
      const res = await fetch(`${world.daemon().url}${p}`, {
        method,
        headers: { authorization: `Bearer ${ROOT_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = { text };
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async postWebhook(body) {
      const res = await fetch(`${world.daemon().url}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
        body,
      });
      return {
        status: res.status,
        body: (await res.json().catch(() => ({}))) as Record<string, unknown>,
        headers: res.headers,
      };
    },
    query<T>(sql: string, ...params: unknown[]): T[] {
      readonlyDb ??= new SQLite(dbFile, { readonly: true, fileMustExist: true });
      return readonlyDb.prepare(sql).all(...params) as T[];
    },
    async setupAgent() {
      const agent = await world.api('POST', '/api/agents', { name: 'Support', phone_number_id: PNID });
      if (agent.status !== 201)
        throw new Error(`create agent: ${agent.status} ${JSON.stringify(agent.body)}`);
      const install = await world.api('POST', '/api/marketplace/extensions/install', {
        offerId: 1,
        agentUuid: agent.body.uuid,
        installMode: 'purchase',
      });
      if (install.status !== 201) throw new Error(`install: ${install.status}`);
      return String(agent.body.uuid);
    },
    async approveTemplate() {
      const approval = readFileSync(path.join(FIXTURE_DIR, 'field_message_template_status_approved.json'));
      const res = await world.postWebhook(approval);
      if (res.status !== 200) throw new Error(`template approval webhook: ${res.status}`);
      await waitFor(
        () => world.query("select 1 from templates where status = 'APPROVED'").length > 0,
        20_000,
        50,
      );
    },
    async close() {
      readonlyDb?.close();
      await killAll(running);
      await proxy?.close();
      await graph.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Every request the fake Cloud API took that sends a message (not a mark-as-read). */
/**
 * Acknowledged deliveries against the daemon's database: inbox rows acked but not processed (lost),
 * and acked inbound wamids not stored exactly once.
 */
export function reconcileAcked(
  w: FaultWorld,
  acked: Iterable<string>,
  ackedWamids: Iterable<string>,
): { lost: string[]; notOnce: string[] } {
  const processed = new Set(
    w.query<{ id: string }>("select id from inbox where state = 'processed'").map((r) => r.id),
  );
  const inbound = new Map(
    w
      .query<{ wamid: string; n: number }>(
        "select wamid, count(*) as n from messages where direction = 'inbound' group by wamid",
      )
      .map((r) => [r.wamid, r.n]),
  );
  return {
    lost: [...acked].filter((id) => !processed.has(id)),
    notOnce: [...ackedWamids].filter((id) => inbound.get(id) !== 1),
  };
}

export function messageSends(graph: FakeGraphApi) {
  return graph.requests.filter((r) => {
    const b = r.body as { to?: string; recipient?: string; status?: string } | null;
    return r.path.endsWith('/messages') && b !== null && typeof b === 'object' && b.status !== 'read';
  });
}

/** What makes two sends the same message to the same customer: recipient, content, campaign tag. */
export function graphSendKey(body: unknown): string {
  const b = body as {
    to?: string;
    recipient?: string;
    type?: string;
    text?: { body?: string };
    template?: { name?: string };
    biz_opaque_callback_data?: string;
  };
  // A read receipt (SPEC §12 mark-as-read) names the message it marks, not a recipient.
  const receipt = body as { status?: string; message_id?: string };
  if (receipt.status === 'read') return `read|${receipt.message_id ?? ''}`;
  const content = b.type === 'text' ? b.text?.body : b.type === 'template' ? b.template?.name : b.type;
  return [b.to ?? `user:${b.recipient}`, b.type, content, b.biz_opaque_callback_data ?? ''].join('|');
}

/** The same key for an outbox row's payload (an OutboundMessage). */
export function outboxSendKey(to: string, payload: string): string {
  const m = JSON.parse(payload) as {
    kind?: string;
    message_id?: string;
    content?: { type: string; text?: string; template?: { name: string }; body?: string };
    biz_opaque_callback_data?: string;
  };
  if (m.kind === 'mark_as_read' || !m.content) return `read|${m.message_id ?? ''}`;
  const c = m.content;
  const content = c.type === 'text' ? c.text : c.type === 'template' ? c.template?.name : c.type;
  return [to, c.type, content, m.biz_opaque_callback_data ?? ''].join('|');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
