// The domain event log (SPEC §11): each change writes its events in its own transaction, numbered in
// commit order; a change that rolls back leaves no event; duplicates have their events once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordEvent, recordingTogether } from '../../src/events/record-event.js';
import { withTransaction } from '../../src/store/transactions.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { rows } from '../inbox/db-view.js';
import { deliver, fixture } from '../webhook/deliveries.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

interface EventRowView {
  seq: number;
  id: string;
  type: string;
  internal: number;
  conversation_id: string | null;
  data: string;
}
const publicEvents = () =>
  rows<EventRowView>(t, 'select * from domain_events where internal = 0 order by seq');

describe('the domain event log', () => {
  it('a customer message records conversation.opened and message.received with the conversation', async () => {
    await deliver(t, fixture('dup_inbound_first_delivery.json'));
    const events = publicEvents();
    expect(events.map((e) => e.type)).toEqual(['conversation.opened', 'message.received']);
    const received = events[1] as EventRowView;
    expect(received.id).toMatch(/^evt_[0-9A-Z]{26}$/);
    const conv = rows<{ id: string }>(t, 'select id from conversations')[0];
    expect(received.conversation_id).toBe(conv?.id);
    expect(JSON.parse(received.data)).toMatchObject({ type: 'text', text: 'Wann kommt mein Paket an?' });
    expect(events[0]?.seq).toBeLessThan(received.seq);
  });

  it('a duplicate wamid has its events once', async () => {
    const f = fixture('dup_inbound_first_delivery.json');
    await deliver(t, f, f);
    expect(publicEvents().filter((e) => e.type === 'message.received')).toHaveLength(1);
  });

  it('an event recorded in a transaction that rolls back is gone with it', async () => {
    await expect(
      withTransaction(t.deps.db, async (trx) => {
        await recordEvent(
          trx,
          { type: 'runtime.status_changed', data: { status: 'paused' } },
          { ids: t.deps.ids, now: t.clock.now() },
        );
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(publicEvents()).toHaveLength(0);
  });

  it('events recorded together are appended in the order recorded, with their seqs, when the scope ends', async () => {
    const ctx = { ids: t.deps.ids, now: t.clock.now() };
    const recorded = await withTransaction(t.deps.db, (trx) =>
      recordingTogether(trx, async () => {
        const out = [];
        // More than one statement holds (16 a statement): the order must hold across them.
        for (let i = 0; i < 20; i++) {
          out.push(await recordEvent(trx, { type: 'runtime.status_changed', data: { i } }, ctx));
        }
        expect(out.every((e) => e.seq === 0)).toBe(true);
        return out;
      }),
    );
    const events = publicEvents();
    expect(events.map((e) => JSON.parse(e.data).i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(events.map((e) => e.id)).toEqual(recorded.map((e) => e.id));
    expect(recorded.map((e) => e.seq)).toEqual(events.map((e) => Number(e.seq)));
  });

  it('events recorded together in a scope that throws are not appended', async () => {
    const ctx = { ids: t.deps.ids, now: t.clock.now() };
    await withTransaction(t.deps.db, async (trx) => {
      await expect(
        recordingTogether(trx, async () => {
          await recordEvent(trx, { type: 'runtime.status_changed', data: { status: 'paused' } }, ctx);
          throw new Error('undone');
        }),
      ).rejects.toThrow('undone');
      await recordEvent(trx, { type: 'runtime.status_changed', data: { status: 'active' } }, ctx);
    });
    expect(publicEvents().map((e) => JSON.parse(e.data).status)).toEqual(['active']);
  });

  it('pausing the runtime records runtime.status_changed', async () => {
    const res = await t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'pause_runtime' },
    });
    expect(res.status).toBe(200);
    const events = publicEvents();
    expect(events.map((e) => e.type)).toEqual(['runtime.status_changed']);
    expect(JSON.parse(events[0]?.data as string)).toMatchObject({
      status: 'paused',
      previous_status: 'active',
    });
  });
});
