// `simulate --scenario demo`: the "see it reply" path. Before the deliveries it makes the channel
// answer (creates its agent and installs native-whatsapp on it, as an operator would through the API);
// after them it reads each customer's conversation back and says what happened and, where nothing
// happened, why (the conversation detail's auto_replies and follow-up skip reasons). The follow-up is
// waited for only when its rule makes it due soon (config/demo.json: 20 s); otherwise it says when.
import { type DemoCustomer, demoCustomers } from '../webhook/sample-deliveries.js';

const API = '/api/extensions/native-whatsapp/runtime/conversations';
/** A follow-up due later than this is announced, not waited for. */
const MAX_FOLLOW_UP_WAIT_MS = 90_000;

export interface DemoIo {
  base: URL;
  token: string;
  out: (line: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

interface Detail {
  conversation_id: string;
  queue_state: string;
  assigned_route: string;
  conversation_class: string;
  escalation_reason: string | null;
  closed_reason: string | null;
  messages: { direction: string; text: string | null; type: string }[];
  follow_ups: { id: string; rule_id: string; due_at: string; state: string; skip_reason: string | null }[];
  drafts: { id: string; text: string; state: string }[];
  auto_replies: { mode: string; state: string; outcome: string | null }[];
}

async function api<T>(io: DemoIo, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, io.base), {
    method,
    headers: {
      authorization: `Bearer ${io.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The channel's agent (created unless one exists) with native-whatsapp installed and active. */
export async function prepareDemo(io: DemoIo, phoneNumberId: string): Promise<void> {
  type Agent = { id: number; uuid: string; phone_number_id: string | null };
  const agents = await api<{ items: Agent[] }>(io, 'GET', '/api/agents?limit=100');
  let agent = agents.items.find((a) => a.phone_number_id === phoneNumberId);
  if (agent) {
    io.out(`agent ${agent.id} already owns channel ${phoneNumberId}`);
  } else {
    agent = await api<Agent>(io, 'POST', '/api/agents', {
      name: 'Demo shop',
      phone_number_id: phoneNumberId,
    });
    io.out(`created agent ${agent.id} ("Demo shop") for channel ${phoneNumberId}   POST /api/agents`);
  }
  type Attachment = { id: number; status: string };
  const att = await api<Attachment>(io, 'POST', '/api/marketplace/extensions/install', {
    offerId: 1,
    agentUuid: agent.uuid,
    installMode: 'trial',
  });
  if (att.status === 'queued') {
    await api(io, 'POST', `/api/agents/${agent.id}/extensions/${att.id}/activate`);
  }
  io.out(
    `native-whatsapp is active on agent ${agent.id} (attachment ${att.id})   POST /api/marketplace/extensions/install`,
  );
}

async function detailOf(io: DemoIo, c: DemoCustomer): Promise<Detail | undefined> {
  const page = await api<{ items: { conversation_id: string }[] }>(
    io,
    'GET',
    `${API}?wa_id=${c.wa_id}&limit=1`,
  );
  const id = page.items[0]?.conversation_id;
  return id ? api<Detail>(io, 'GET', `${API}/${id}`) : undefined;
}

/** True once the daemon has done (or given up on) what this customer's message asks of it. */
function settled(c: DemoCustomer, d: Detail): boolean {
  if (d.auto_replies.some((j) => j.state === 'pending')) return false;
  switch (c.expect) {
    case 'auto-reply': {
      // A reply the responder made is settled once it was sent (it waits in the paced queue behind
      // its read receipt); one it did not make is settled by its recorded outcome.
      if (d.messages.some((m) => m.direction === 'outbound' && m.text)) return true;
      const last = d.auto_replies.at(-1);
      return last !== undefined && !last.outcome?.startsWith('replied');
    }
    case 'draft':
      return d.drafts.length > 0 || d.auto_replies.length > 0;
    case 'escalation':
      return d.queue_state === 'escalated';
    case 'opt-out':
      return d.closed_reason === 'opt_out';
  }
}

/** Why the expected reply did not come: the responder's recorded outcome, else the route. */
function whyNot(d: Detail): string {
  const outcome = d.auto_replies.at(-1)?.outcome;
  if (outcome) return outcome;
  return `route ${d.assigned_route}, state ${d.queue_state}: no reply was asked of the responder`;
}

function describe(c: DemoCustomer, d: Detail | undefined): { ok: boolean; line: string } {
  if (!d) return { ok: false, line: 'no conversation: the delivery was not processed (see the daemon log)' };
  const head = `${c.name.padEnd(4)} ${`${d.conversation_class} → ${d.assigned_route}`.padEnd(26)}`;
  const sent = d.messages.filter((m) => m.direction === 'outbound' && m.text);
  switch (c.expect) {
    case 'auto-reply': {
      const reply = sent[0]?.text;
      return reply
        ? { ok: true, line: `${head}auto-reply: "${reply}"` }
        : { ok: false, line: `${head}no auto-reply: ${whyNot(d)}` };
    }
    case 'draft': {
      const draft = d.drafts.find((x) => x.state === 'pending') ?? d.drafts[0];
      return draft
        ? {
            ok: true,
            line: `${head}draft for a human (${draft.state}): "${draft.text}"\n${' '.repeat(32)}approve: POST ${API}/${d.conversation_id}/drafts/${draft.id}/approve`,
          }
        : { ok: false, line: `${head}no draft: ${whyNot(d)}` };
    }
    case 'escalation':
      return d.queue_state === 'escalated'
        ? { ok: true, line: `${head}escalated (${d.escalation_reason}): no automatic reply, a human answers` }
        : { ok: false, line: `${head}not escalated (state ${d.queue_state})` };
    case 'opt-out':
      return d.closed_reason === 'opt_out'
        ? {
            ok: true,
            line: `${head}opted out: conversation closed, no automated messages to ${c.name} any more`,
          }
        : { ok: false, line: `${head}not opted out (state ${d.queue_state})` };
  }
}

/** Reads every demo conversation back and reports; returns false when something did not happen. */
export async function reportDemo(io: DemoIo, runAt: number): Promise<boolean> {
  const customers = demoCustomers(runAt);
  const deadline = io.now() + 20_000;
  const details = new Map<DemoCustomer, Detail | undefined>();
  for (const c of customers) {
    for (;;) {
      const d = await detailOf(io, c);
      details.set(c, d);
      if ((d && settled(c, d)) || io.now() > deadline) break;
      await io.sleep(250);
    }
  }
  io.out('\nwhat the daemon did:');
  let ok = true;
  for (const c of customers) {
    const r = describe(c, details.get(c));
    ok &&= r.ok;
    io.out(`  ${r.line}`);
  }
  return (await followUp(io, customers[0] as DemoCustomer)) && ok;
}

/** Mia's follow-up: waited for when due soon, announced otherwise. */
async function followUp(io: DemoIo, mia: DemoCustomer): Promise<boolean> {
  let d = await detailOf(io, mia);
  const planned = d?.follow_ups.find((f) => f.state === 'scheduled' || f.state === 'claimed');
  if (!d || !planned) {
    const last = d?.follow_ups.at(-1);
    io.out(
      last
        ? `  follow-up: ${last.rule_id} is ${last.state}${last.skip_reason ? ` (${last.skip_reason})` : ''}`
        : '  follow-up: none planned for Mia (no follow-up rule applies, or no reply went out to start a silence)',
    );
    return last?.state === 'sent';
  }
  const due = Date.parse(planned.due_at);
  if (due - io.now() > MAX_FOLLOW_UP_WAIT_MS) {
    io.out(
      `  follow-up: ${planned.rule_id} for Mia is due at ${planned.due_at} (its rule's "after"), too late to wait for here; config/demo.json has the same rule due 20 s after the reply`,
    );
    return true;
  }
  const wait = Math.max(0, Math.ceil((due - io.now()) / 1000));
  io.out(`\nwaiting ${wait} s for follow-up ${planned.rule_id} to Mia (due ${planned.due_at})...`);
  const deadline = due + 30_000;
  for (;;) {
    d = await detailOf(io, mia);
    const f = d?.follow_ups.find((x) => x.id === planned.id);
    if (f && !['scheduled', 'claimed'].includes(f.state)) {
      const text = d?.messages.filter((m) => m.direction === 'outbound').at(-1)?.text;
      io.out(
        f.state === 'sent'
          ? `  follow-up sent to Mia: "${text ?? '(template)'}"`
          : `  follow-up ${f.state}: ${f.skip_reason ?? 'no reason recorded'}`,
      );
      return f.state === 'sent';
    }
    if (io.now() > deadline) {
      io.out('  follow-up: not sent yet; is the runtime paused, or the tick slow? (see the daemon log)');
      return false;
    }
    await io.sleep(500);
  }
}
