import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { sequentialIds } from '../../../src/lib/ids.js';
import {
  createSandboxTransport,
  type SyntheticStatusEvent,
  toWebhookPayload,
} from '../../../src/outbound/transports/sandbox.js';
import type { OutboundMessage } from '../../../src/outbound/transports/transport.js';

const message: OutboundMessage = {
  kind: 'message',
  phone_number_id: 'sandbox',
  to: { wa_id: '4917000000001' },
  content: { type: 'text', text: 'Hi' },
  biz_opaque_callback_data: 'campaign=c1',
};

async function until(cond: () => boolean, deadlineMs = 2000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise<void>((r) => setImmediate(r));
  }
}

describe('sandbox transport', () => {
  it('accepts every message with a wamid.sandbox.<ulid> id', async () => {
    const clock = new FakeClock('2026-01-05T08:00:00Z');
    const t = createSandboxTransport({ clock, ids: sequentialIds(clock) });
    const a = await t.send(message);
    const b = await t.send(message);
    expect(a).toMatchObject({ outcome: 'accepted', messageStatus: 'accepted' });
    expect(a.outcome === 'accepted' && a.wamid).toMatch(/^wamid\.sandbox\.[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a.outcome === 'accepted' && b.outcome === 'accepted' && a.wamid !== b.wamid).toBe(true);
  });

  it('emits sent then delivered after the send resolved, shaped like Meta statuses', async () => {
    const clock = new FakeClock('2026-01-05T08:00:00Z');
    const events: SyntheticStatusEvent[] = [];
    let resolved = false;
    const t = createSandboxTransport({
      clock,
      ids: sequentialIds(clock),
      onStatus: (e) => {
        expect(resolved).toBe(true);
        events.push(e);
      },
    });
    const result = await t.send(message);
    resolved = true;
    await until(() => events.length === 2);
    const wamid = result.outcome === 'accepted' ? result.wamid : null;
    expect(events).toEqual([
      {
        phone_number_id: 'sandbox',
        status: {
          id: wamid,
          status: 'sent',
          timestamp: '1767600000',
          recipient_id: '4917000000001',
          biz_opaque_callback_data: 'campaign=c1',
        },
      },
      {
        phone_number_id: 'sandbox',
        status: expect.objectContaining({ id: wamid, status: 'delivered', timestamp: '1767600000' }),
      },
    ]);
  });

  it('names a user-id-only customer as recipient_user_id', async () => {
    const clock = new FakeClock();
    const events: SyntheticStatusEvent[] = [];
    const t = createSandboxTransport({
      clock,
      ids: sequentialIds(clock),
      onStatus: (e) => void events.push(e),
    });
    await t.send({ ...message, to: { user_id: 'US.1349' } });
    await until(() => events.length === 2);
    expect(events[0]!.status.recipient_user_id).toBe('US.1349');
    expect(events[0]!.status).not.toHaveProperty('recipient_id');
  });

  it('records what it sent, as the Graph body, keeping only the most recent', async () => {
    const clock = new FakeClock();
    const t = createSandboxTransport({ clock, ids: sequentialIds(clock), keep: 3 });
    for (let i = 0; i < 5; i++) await t.send({ ...message, content: { type: 'text', text: `m${i}` } });
    expect(t.sent.map((r) => (r.body.text as { body: string }).body)).toEqual(['m2', 'm3', 'm4']);
  });

  it('accepts mark-as-read without a wamid or statuses', async () => {
    const clock = new FakeClock();
    const events: SyntheticStatusEvent[] = [];
    const t = createSandboxTransport({
      clock,
      ids: sequentialIds(clock),
      onStatus: (e) => void events.push(e),
    });
    const r = await t.send({ kind: 'mark_as_read', phone_number_id: 'sandbox', message_id: 'wamid.IN' });
    expect(r).toEqual({ outcome: 'accepted', wamid: null, messageStatus: null });
    await new Promise<void>((res) => setImmediate(res));
    expect(events).toEqual([]);
  });

  it('survives a throwing status callback and reports it', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const t = createSandboxTransport({
      clock,
      ids: sequentialIds(clock),
      onStatus: () => {
        throw new Error('status processing broke');
      },
      onStatusError: (e) => errors.push(e),
    });
    expect(await t.send(message)).toMatchObject({ outcome: 'accepted' });
    await until(() => errors.length === 2);
  });

  it('wraps a status in a whole webhook delivery for the inbox path', () => {
    const payload = toWebhookPayload({
      phone_number_id: 'sandbox',
      status: { id: 'wamid.sandbox.X', status: 'sent', timestamp: '1', recipient_id: '1' },
    });
    expect(payload).toMatchObject({
      object: 'whatsapp_business_account',
      entry: [
        {
          changes: [
            {
              field: 'messages',
              value: { metadata: { phone_number_id: 'sandbox' }, statuses: [{ id: 'wamid.sandbox.X' }] },
            },
          ],
        },
      ],
    });
  });
});
