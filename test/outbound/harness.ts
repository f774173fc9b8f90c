// An outbound test bench: a test app whose cloud-api transport points at a fake Graph API (real HTTP),
// the fixtures' channel owned by an agent with an active attachment, and small helpers to put rows in
// the outbox and read them back.

import { type EnqueueInput, enqueueOutbound } from '../../src/outbound/outbox.js';
import type { Recipient } from '../../src/outbound/transports/transport.js';
import { withTransaction } from '../../src/store/transactions.js';
import { type FakeGraphApi, startFakeGraphApi } from '../helpers/fake-graph-api.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../helpers/test-app.js';
import { one, rows } from '../inbox/db-view.js';
import { deliver, fixture, PNID } from '../webhook/deliveries.js';

export const ACCESS_TOKEN = 'EAAtest_access_token_0123456789';

export interface Bench {
  t: TestApp;
  graph: FakeGraphApi;
  close(): Promise<void>;
}

export async function startBench(
  options: { config?: Record<string, unknown>; agent?: 'active' | 'none' | 'queued' } & Omit<
    TestAppOptions,
    'config'
  > = {},
): Promise<Bench> {
  const graph = await startFakeGraphApi();
  const config = options.config ?? {};
  const channels = (config.channels as Record<string, unknown> | undefined) ?? {};
  const t = await createTestApp({
    ...options,
    config: {
      ...config,
      channels: { access_token: ACCESS_TOKEN, api_base_url: graph.url, ...channels },
    },
  });
  if ((options.agent ?? 'active') !== 'none')
    await attachAgent(t, options.agent === 'queued' ? 'queued' : 'purchase');
  return {
    t,
    graph,
    async close() {
      await t.close();
      await graph.close();
    },
  };
}

/** Creates an agent owning the fixtures' channel and installs the extension on it. */
export async function attachAgent(
  t: TestApp,
  installMode: 'purchase' | 'queued' = 'purchase',
): Promise<void> {
  const res = await t.request('/api/agents', { body: { name: 'Support', phone_number_id: PNID } });
  if (res.status !== 201) throw new Error(`agent: ${res.status} ${await res.text()}`);
  const agent = (await res.json()) as { uuid: string };
  const inst = await t.request('/api/marketplace/extensions/install', {
    body: { offerId: 1, agentUuid: agent.uuid, installMode },
  });
  if (inst.status !== 201) throw new Error(`install: ${inst.status} ${await inst.text()}`);
}

/** A customer conversation on the fixtures' channel (msg_text_plain: 4917000000001). */
export async function customerConversation(t: TestApp): Promise<{ id: string; contact_id: string }> {
  await deliver(t, fixture('msg_text_plain.json'));
  return one<{ id: string; contact_id: string }>(
    t,
    'select id, contact_id from conversations order by id limit 1',
  );
}

type EnqueueTestInput = Partial<EnqueueInput> & { to?: Recipient; text?: string };

export async function enqueue(t: TestApp, input: EnqueueTestInput): Promise<string> {
  return (await enqueueMany(t, [input]))[0] as string;
}

/**
 * Several rows in one commit: the sender sees them all at once. (One by one, a sender that polls may
 * start the first before the rest exist, sooner on PostgreSQL, where each commit is a round trip.)
 */
export async function enqueueMany(t: TestApp, inputs: EnqueueTestInput[]): Promise<string[]> {
  return withTransaction(t.deps.db, async (trx) => {
    const ids: string[] = [];
    for (const input of inputs) {
      const row = await enqueueOutbound(
        trx,
        {
          kind: 'manual',
          phone_number_id: PNID,
          to: { wa_id: '4917000000001' },
          content: { type: 'text', text: input.text ?? 'Hello from the business' },
          conversation_id: null,
          contact_id: null,
          ...input,
        },
        { ids: t.deps.ids, now: t.clock.now() },
      );
      ids.push(row.id);
    }
    return ids;
  });
}

export interface OutboxView {
  id: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  wamid: string | null;
  error_code: number | null;
  kind: string;
  follow_up_id: string | null;
  payload: string;
}

export const outbox = (t: TestApp) => rows<OutboxView>(t, 'select * from outbox order by id');
export const outboxRow = (t: TestApp, id: string) =>
  one<OutboxView>(t, 'select * from outbox where id = ?', id);
