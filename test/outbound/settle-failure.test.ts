// SPEC §9a: "a row is never left `sending` because a settle step threw". Each case makes one step after
// the transport's answer fail through the real database (a trigger standing for a constraint, or a
// stored row the transport cannot build) and checks that the outbox row ends sent, queued for a retry
// or failed, and that a restart sends nothing twice.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { exec, one, refuseWrites, rows } from '../inbox/db-view.js';
import { type Bench, customerConversation, enqueue, outboxRow, startBench } from './harness.js';

let b: Bench | undefined;
let t: TestApp | undefined;
afterEach(async () => {
  await b?.close();
  await t?.close();
  b = undefined;
  t = undefined;
});

/** A constraint on one table that refuses the writes a settle step makes there. */
function refuse(app: TestApp, table: string, op: 'INSERT' | 'UPDATE', when = 'true'): void {
  refuseWrites(app, `refuse_${table}`, table, op, when, 'refused by the test constraint');
}

/** What the next start does with the outbox: rows left `sending` are sent again (SPEC §5). */
async function restartSender(app: TestApp): Promise<void> {
  await app.deps.outbound.sender.stop(Date.now() + 2_000);
  await app.deps.outbound.sender.start();
  await app.deps.outbound.sender.drain();
}

const settleFailures = (app: TestApp) => app.logs().filter((l) => l.event === 'outbound.settle_failed');

describe('a settle step that throws', () => {
  it('after an accepted send: the row is sent with its wamid and its event, and never sent again', async () => {
    b = await startBench();
    const conv = await customerConversation(b.t);
    // Recording the outbound message is one of the steps after markSent in the same transaction.
    refuse(b.t, 'messages', 'INSERT', "NEW.direction = 'outbound'");
    const id = await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();

    expect(outboxRow(b.t, id)).toMatchObject({ state: 'sent', attempts: 1, wamid: 'wamid.FAKE00000001' });
    expect(settleFailures(b.t)).toHaveLength(1);
    const sent = rows<{ data: string }>(b.t, "select data from domain_events where type = 'message.sent'");
    expect(sent.map((e) => JSON.parse(e.data).outbox_id)).toEqual([id]);

    await restartSender(b.t);
    expect(b.graph.requests).toHaveLength(1);
    expect(outboxRow(b.t, id).state).toBe('sent');
  });

  it('after a permanent failure: the row is failed with its code, not retried', async () => {
    b = await startBench();
    const conv = await customerConversation(b.t);
    b.graph.next({ error: 131026 });
    const id = await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    // Escalating the conversation is the permanent failure's answer, after markFinal.
    refuse(b.t, 'conversations', 'UPDATE', "NEW.queue_state = 'escalated'");
    await b.t.deps.outbound.sender.drain();

    expect(outboxRow(b.t, id)).toMatchObject({ state: 'failed', attempts: 1, error_code: 131026 });
    expect(settleFailures(b.t)).toHaveLength(1);
    expect(one(b.t, "select count(*) as n from domain_events where type = 'message.failed'")).toEqual({
      n: 1,
    });
    await restartSender(b.t);
    expect(b.graph.requests).toHaveLength(1);
  });

  it('a send task that throws after marking the row sending leaves it queued for a retry', async () => {
    // The sandbox transport builds the Graph body from the stored payload; one without content throws.
    t = await createTestApp();
    const id = await enqueue(t, {});
    exec(
      t,
      'update outbox set payload = ? where id = ?',
      JSON.stringify({ kind: 'message', phone_number_id: 'x', to: { wa_id: '4917000000001' } }),
      id,
    );
    await t.deps.outbound.sender.drain();

    const row = outboxRow(t, id);
    expect(row).toMatchObject({
      state: 'queued',
      attempts: 1,
      error_title: 'the send task failed (see the log)',
    });
    expect(row.next_attempt_at).toBeGreaterThan(t.clock.now());
    expect(t.logs().filter((l) => l.event === 'outbound.task_failed')).toHaveLength(1);
  });
});
