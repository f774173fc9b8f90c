// The domain event log (SPEC §11): each change writes its events in its own transaction, numbered in
// commit order; a change that rolls back leaves no event; duplicates have their events once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/events/record-event.js';
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
