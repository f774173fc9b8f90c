// The fault suite's reconciliation, shared by the scenarios that kill daemons under the mixed load
// (kill-rounds.test.ts on SQLite, instances.test.ts with three instances on PostgreSQL): the
// database read back against what the load was told (200 / 202) and what the fake Cloud API took.
// Every acknowledged delivery processed, every inbound message stored once, every acknowledged status
// and reply present; every recorded send answered once by the API; every other call the API took a
// row that was `sending` at a kill (SPEC §5's window), one to one; no follow-up, silence or campaign
// recipient sent twice.
import type { FakeGraphApi } from '../helpers/fake-graph-api.js';
import { graphSendKey, messageSends } from './harness.js';

/** Read-only SQL against the daemon's database (either engine; counts may come back as strings). */
export type FaultQuery = <T>(sql: string) => Promise<T[]> | T[];

/** What the load was acknowledged: inbox ids, inbound wamids, `wamid|status` pairs, outbox ids. */
export interface Acknowledged {
  inbox: Set<string>;
  wamids: Set<string>;
  statuses: Set<string>;
  replies: Set<string>;
}

/** A row its instance had `sending` when it was killed: the answer the API gave it is lost. */
export interface SendingAtKill {
  round: number;
  id: string;
  key: string;
}

interface OutboxView {
  id: string;
  kind: string;
  state: string;
  to: string;
  payload: string;
  wamid: string | null;
  follow_up_id: string | null;
  campaign_recipient_id: string | null;
}

export interface Reconciliation {
  problems: string[];
  numbers: {
    deliveries_acked: number;
    deliveries_lost: number;
    inbound_messages_acked: number;
    inbound_messages_present: number;
    inbound_messages_duplicated: number;
    statuses_acked: number;
    statuses_present: number;
    manual_replies_acked: number;
    manual_replies_sent: number;
    auto_replies_sent: number;
    follow_ups_sent: number;
    campaign_recipients_sent: number;
    sends_recorded: number;
    sends_at_fake_api: number;
    rows_sending_at_kills: number;
    double_sends_inside_window: number;
    answer_lost_inside_window: number;
    double_sends_outside_window: number;
  };
}

export async function reconcile(
  run: FaultQuery,
  graph: FakeGraphApi,
  acked: Acknowledged,
  sendingAtKill: readonly SendingAtKill[],
): Promise<Reconciliation> {
  const query = async <T>(sql: string): Promise<T[]> => await run<T>(sql);
  const problems: string[] = [];
  const inbox = new Map(
    (await query<{ id: string; state: string }>('select id, state from inbox')).map((r) => [r.id, r.state]),
  );
  let deliveriesLost = 0;
  for (const id of acked.inbox) {
    const state = inbox.get(id);
    if (state !== 'processed') {
      deliveriesLost++;
      problems.push(`acknowledged delivery ${id} is ${state ?? 'missing'}`);
    }
  }
  const perWamid = new Map(
    (
      await query<{ wamid: string; n: string }>(
        "select wamid, count(*) as n from messages where direction = 'inbound' group by wamid",
      )
    ).map((r) => [r.wamid, Number(r.n)]),
  );
  let present = 0;
  let duplicates = 0;
  for (const id of acked.wamids) {
    const n = perWamid.get(id) ?? 0;
    if (n >= 1) present++;
    if (n > 1) duplicates++;
    if (n !== 1) problems.push(`inbound ${id} stored ${n} times`);
  }
  const statuses = new Set(
    (await query<{ k: string }>("select wamid || '|' || status as k from status_events")).map((r) => r.k),
  );
  let statusesPresent = 0;
  for (const s of acked.statuses) {
    if (statuses.has(s)) statusesPresent++;
    else problems.push(`acknowledged status ${s} missing`);
  }
  const outbox = await query<OutboxView>(
    'select id, kind, state, "to", payload, wamid, follow_up_id, campaign_recipient_id from outbox',
  );
  const byId = new Map(outbox.map((r) => [r.id, r]));
  let repliesSent = 0;
  for (const id of acked.replies) {
    const row = byId.get(id);
    if (row?.state === 'sent') repliesSent++;
    else problems.push(`acknowledged reply ${id} is ${row?.state ?? 'missing'}`);
  }
  // Every send the database recorded reached the API once; every other call the API took must be
  // a row that was `sending` at a kill (its answer was lost), matched one to one.
  const fake = messageSends(graph).map((r) => ({
    wamid: (r.answered as { wamid?: string }).wamid ?? '',
    key: graphSendKey(r.body),
  }));
  const fakeWamids = new Map<string, number>();
  for (const f of fake) fakeWamids.set(f.wamid, (fakeWamids.get(f.wamid) ?? 0) + 1);
  // Read receipts (rows to `read:<wamid>`) get no wamid from the API and are no message to a customer.
  const sent = outbox.filter((r) => r.state === 'sent' && !r.to.startsWith('read:'));
  const sentWamids = new Set(sent.map((r) => r.wamid));
  for (const r of sent) {
    const n = r.wamid ? (fakeWamids.get(r.wamid) ?? 0) : 0;
    if (n !== 1) problems.push(`outbox ${r.id} is sent as ${r.wamid} but the API answered that ${n} times`);
  }
  const window = new Map<string, { id: string }[]>();
  for (const s of sendingAtKill) window.set(s.key, [...(window.get(s.key) ?? []), s]);
  let doubleInWindow = 0;
  let answerLostInWindow = 0;
  let outside = 0;
  // One logical send (a campaign recipient, a follow-up, else the row) may span several rows: a
  // recovered row can be taken back by a campaign pause and queued again as a new row.
  const logical = (r: OutboxView) => r.campaign_recipient_id ?? r.follow_up_id ?? r.id;
  const sentLogical = new Set(sent.map(logical));
  for (const f of fake.filter((x) => !sentWamids.has(x.wamid))) {
    const match = window.get(f.key)?.shift();
    const row = match ? byId.get(match.id) : undefined;
    if (!row) {
      outside++;
      problems.push(`the API took ${f.key} (${f.wamid}) outside the allowed window`);
    } else if (sentLogical.has(logical(row))) doubleInWindow++;
    else answerLostInWindow++;
  }
  for (const r of await query<{ id: string; n: string }>(
    "select follow_up_id as id, count(*) as n from outbox where state = 'sent' and follow_up_id is not null group by follow_up_id having count(*) > 1",
  ))
    problems.push(`follow-up ${r.id} sent ${r.n} times`);
  for (const r of await query<{ id: string; n: string }>(
    "select conversation_id || '@' || silence_from || '/' || rule_id as id, count(*) as n from follow_ups where state = 'sent' group by conversation_id, silence_from, rule_id having count(*) > 1",
  ))
    problems.push(`silence ${r.id} followed up ${r.n} times`);
  for (const r of await query<{ id: string; n: string }>(
    "select campaign_recipient_id as id, count(*) as n from outbox where state = 'sent' and campaign_recipient_id is not null group by campaign_recipient_id having count(*) > 1",
  ))
    problems.push(`campaign recipient ${r.id} sent ${r.n} times`);
  const sentOf = (kind: string) => sent.filter((r) => r.kind === kind).length;
  return {
    problems,
    numbers: {
      deliveries_acked: acked.inbox.size,
      deliveries_lost: deliveriesLost,
      inbound_messages_acked: acked.wamids.size,
      inbound_messages_present: present,
      inbound_messages_duplicated: duplicates,
      statuses_acked: acked.statuses.size,
      statuses_present: statusesPresent,
      manual_replies_acked: acked.replies.size,
      manual_replies_sent: repliesSent,
      auto_replies_sent: sentOf('reply'),
      follow_ups_sent: sentOf('follow_up'),
      campaign_recipients_sent: sentOf('campaign'),
      sends_recorded: sent.length,
      sends_at_fake_api: fake.length,
      rows_sending_at_kills: sendingAtKill.length,
      double_sends_inside_window: doubleInWindow,
      answer_lost_inside_window: answerLostInWindow,
      double_sends_outside_window: outside,
    },
  };
}
