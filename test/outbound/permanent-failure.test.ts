// One answer to a permanent failure, whichever way it arrives (SPEC §3a, §4, §5): the send call's
// refusal or a `failed` status webhook for a message the API had accepted. Statuses are Meta's
// status_failed_* fixtures with the wamid the fake Cloud API gave, re-signed; posted twice, and before
// the send returned as well as after.
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../inbox/db-view.js';
import { deliver, fixture, signed } from '../webhook/deliveries.js';
import { type Bench, customerConversation, enqueue, outbox, startBench } from './harness.js';

const HOUR = 3_600_000;
const RUNTIME = '/api/extensions/native-whatsapp/runtime';
let b: Bench;
afterEach(async () => {
  await b?.close();
});

/** Meta's failed-status fixture for `wamid`, its status time moved to now. */
function failedStatus(name: 'status_failed_131026.json' | 'status_failed_131047.json', wamid: string) {
  const body = JSON.parse(fixture(name).body.toString('utf8')) as {
    entry: { changes: { value: { statuses: { id: string; timestamp: string }[] } }[] }[];
  };
  const s = body.entry[0]?.changes[0]?.value.statuses[0] as { id: string; timestamp: string };
  s.id = wamid;
  s.timestamp = String(Math.floor(b.t.clock.now() / 1000));
  return signed(body);
}

async function snapshot(id: string) {
  const res = await b.t.request(`${RUNTIME}/conversations/${id}`, { token: b.t.tokens.standard });
  return (await res.json()) as {
    queue_state: string;
    escalation_reason: string | null;
    messages: { status: string; error_code: number | null }[];
  };
}

describe('a failed status webhook is a permanent failure', () => {
  it.each(['after the send returned', 'before the send returned'])(
    'it escalates the conversation, as a refused send does (%s)',
    async (when) => {
      b = await startBench();
      const conv = await customerConversation(b.t);
      const wamid = 'wamid.FAILED_LATER_0001';
      const status = failedStatus('status_failed_131026.json', wamid);
      if (when === 'before the send returned') await deliver(b.t, status, status);
      b.graph.next({ accept: true, wamid });
      await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
      await b.t.deps.outbound.sender.drain();
      if (when === 'after the send returned') await deliver(b.t, status, status);
      const detail = await snapshot(conv.id);
      expect(detail.queue_state).toBe('escalated');
      expect(detail.escalation_reason).toContain('131026');
      expect(detail.messages.find((m) => m.status === 'failed')?.error_code).toBe(131026);
    },
  );

  it('131047 on an accepted follow-up re-plans it as its template, once', async () => {
    b = await startBench({
      config: {
        follow_up_rules: [
          { id: 'nudge', after: '1h', text: 'Still there?', template: { name: 'nudge_tpl', language: 'en' } },
        ],
      },
    });
    const conv = await customerConversation(b.t);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    b.t.clock.advance(HOUR);
    b.graph.next({ accept: true, wamid: 'wamid.FOLLOWUP_TEXT_0001' });
    await b.t.deps.outbound.scheduler.tick();
    await b.t.deps.outbound.sender.drain();
    expect(rows(b.t, 'select state from follow_ups')).toEqual([{ state: 'sent' }]);

    const status = failedStatus('status_failed_131047.json', 'wamid.FOLLOWUP_TEXT_0001');
    await deliver(b.t, status, status);
    await b.t.deps.outbound.sender.drain();
    const types = b.graph.requests.map((r) => (r.body as { type: string }).type);
    expect(types).toEqual(['text', 'text', 'template']);
    expect(outbox(b.t).map((r) => r.state)).toEqual(['sent', 'sent', 'sent']);
    // Re-planned, not escalated: the template answers the silence.
    expect((await snapshot(conv.id)).queue_state).toBe('pending');
  });
});
