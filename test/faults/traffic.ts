// The mixed load the fault scenarios drive (kill-rounds.test.ts, instances.test.ts), and what it was
// told: signed webhooks from many customers (new messages, Meta's duplicate deliveries, retries of
// refused or unanswered ones, statuses of sends the fake API accepted) and manual replies through
// runtime/execute. The reconciliation afterwards checks the database against these acknowledgements.
import { toMetaJson } from '../../src/webhook/meta-json.js';
import type { FakeGraphApi } from '../helpers/fake-graph-api.js';
import { deliveryOf, messagesChange, statusChange } from '../webhook/deliveries.js';
import { EXECUTE, messageSends, sleep } from './harness.js';

export interface Delivery {
  body: Buffer;
  wamids: string[];
  statuses: string[];
  acked: boolean;
}

type Answer = { status: number; body: Record<string, unknown> };

export interface TrafficOptions {
  rnd: () => number;
  customers: number;
  /** The customers' wa_id prefix and the wamid prefix: distinct per scenario. */
  customerPrefix: string;
  wamidPrefix: string;
  /** The text of the n-th customer message. */
  text: (n: number) => string;
  graph: () => FakeGraphApi;
  postWebhook: (body: Buffer) => Promise<Answer>;
  api: (method: string, path: string, body?: unknown) => Promise<Answer>;
  query: <T>(sql: string) => T[] | Promise<T[]>;
  agentUuid: string;
  /** After stop: keep posting the deliveries still to be retried until each got its answer. */
  drainRetriesOnStop?: boolean;
}

export interface Traffic {
  deliveries: Delivery[];
  ackedInbox: Set<string>;
  ackedWamids: Set<string>;
  ackedStatuses: Set<string>;
  ackedReplies: Set<string>;
  counts: {
    posted: number;
    refused: number;
    unreachable: number;
    duplicates_acked: number;
    replies_refused: number;
  };
  webhookLoop(stop: { done: boolean }): Promise<void>;
  replyLoop(stop: { done: boolean }): Promise<void>;
}

export function createTraffic(o: TrafficOptions): Traffic {
  const { rnd } = o;
  const t: Traffic = {
    deliveries: [],
    ackedInbox: new Set(),
    ackedWamids: new Set(),
    ackedStatuses: new Set(),
    ackedReplies: new Set(),
    counts: { posted: 0, refused: 0, unreachable: 0, duplicates_acked: 0, replies_refused: 0 },
    webhookLoop,
    replyLoop,
  };
  let seq = 0;
  const customers = Array.from(
    { length: o.customers },
    (_, i) => `${o.customerPrefix}${String(i).padStart(6, '0')}`,
  );
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

  function newInbound(): Delivery {
    const now = Math.floor(Date.now() / 1000);
    const who = [pick(customers), ...(rnd() < 0.3 ? [pick(customers)] : [])].filter(
      (c, i, a) => a.indexOf(c) === i,
    );
    const wamids: string[] = [];
    const changes = who.map((wa) =>
      messagesChange(
        [{ wa_id: wa }],
        Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => {
          const id = `wamid.${o.wamidPrefix}${String(++seq).padStart(7, '0')}`;
          wamids.push(id);
          return { from: wa, id, timestamp: now, body: o.text(seq) };
        }),
      ),
    );
    return { body: Buffer.from(toMetaJson(deliveryOf(changes))), wamids, statuses: [], acked: false };
  }

  function newStatuses(): Delivery | undefined {
    const accepted = messageSends(o.graph()).filter((r) => 'accept' in r.answered);
    if (accepted.length === 0) return undefined;
    const now = Math.floor(Date.now() / 1000);
    const items = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
      const r = pick(accepted);
      return {
        id: (r.answered as { wamid: string }).wamid,
        status: rnd() < 0.6 ? 'delivered' : 'read',
        timestamp: now,
        recipient_id: (r.body as { to: string }).to,
      };
    });
    return {
      body: Buffer.from(toMetaJson(deliveryOf([statusChange(items)]))),
      wamids: [],
      statuses: items.map((s) => `${s.id}|${s.status}`),
      acked: false,
    };
  }

  async function webhookLoop(stop: { done: boolean }): Promise<void> {
    const retry: Delivery[] = [];
    const draining = () => o.drainRetriesOnStop === true && stop.done;
    while (!stop.done || (o.drainRetriesOnStop === true && retry.length > 0)) {
      const r = rnd();
      const acked = t.deliveries.filter((d) => d.acked);
      let d: Delivery | undefined;
      if ((draining() || r < 0.15) && retry.length > 0) d = retry.shift();
      else if (r < 0.25 && acked.length > 0)
        d = pick(acked); // Meta's duplicate delivery
      else if (r < 0.4) d = newStatuses();
      d ??= newInbound();
      if (!t.deliveries.includes(d)) t.deliveries.push(d);
      t.counts.posted++;
      try {
        const res = await o.postWebhook(d.body);
        if (res.status === 200) {
          if (d.acked) t.counts.duplicates_acked++;
          d.acked = true;
          t.ackedInbox.add(String(res.body.inbox_id));
          for (const id of d.wamids) t.ackedWamids.add(id);
          for (const s of d.statuses) t.ackedStatuses.add(s);
        } else {
          t.counts.refused++;
          retry.push(d);
        }
      } catch {
        t.counts.unreachable++;
        if (!d.acked) retry.push(d);
      }
      await sleep(2 + rnd() * 15);
    }
  }

  async function replyLoop(stop: { done: boolean }): Promise<void> {
    while (!stop.done) {
      const open = await o.query<{ id: string }>(
        "select id from conversations where queue_state in ('open', 'pending') order by id limit 500",
      );
      if (open.length > 0) {
        try {
          const res = await o.api('POST', EXECUTE, {
            agent_uuid: o.agentUuid,
            intent: 'reply_conversation',
            context: { platform: 'whatsapp', conversation_id: pick(open).id, text: `Manual reply ${++seq}` },
          });
          if (res.status === 202) t.ackedReplies.add(String(res.body.outbox_id));
          else t.counts.replies_refused++;
        } catch {
          t.counts.replies_refused++;
        }
      }
      await sleep(40 + rnd() * 120);
    }
  }

  return t;
}
