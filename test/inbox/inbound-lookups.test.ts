// A customer message on an open conversation reads the conversation together with what its later
// lookups would find (store/inbound-hints.ts) and skips the lookups that would find nothing. These are
// the cases where they do find something, each on an open conversation: an edit that came before its
// original, a Business-app echo waiting for a conversation, a follow-up and a campaign send the reply
// earns, a pending draft (test/http/drafts.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliver, deliveryOf, messagesChange, PNID, signed, wamid } from '../webhook/deliveries.js';
import { exec, one, rows } from './db-view.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const T0 = 1767600000; // the fake clock's start, s
const CUSTOMER = '4917000000042';

function writes(id: string, at: number, body = 'hello', extra?: Record<string, unknown>) {
  return signed(
    deliveryOf([
      messagesChange(
        [{ wa_id: CUSTOMER }],
        [{ from: CUSTOMER, id, timestamp: at, ...(extra ? { type: 'edit', extra } : { body }) }],
      ),
    ]),
  );
}

async function openConversation(): Promise<string> {
  await deliver(t, writes(wamid('opening'), T0 - 600, 'Hi, a question about my order'));
  return one<{ id: string }>(t, 'select id from conversations where closed_at is null').id;
}

describe('lookups of a message on an open conversation', () => {
  it('an edit delivered before its original is applied when the original arrives', async () => {
    const conversation = await openConversation();
    const original = wamid('original');
    await deliver(
      t,
      writes(wamid('edit'), T0 - 60, '', {
        edit: { original_message_id: original, message: { type: 'text', text: { body: 'I want 4 boxes' } } },
      }),
    );
    await deliver(t, writes(original, T0 - 120, 'I want 3 boxes'));
    const row = one<{ conversation_id: string; text: string; edit_history: string }>(
      t,
      'select conversation_id, text, edit_history from messages where wamid = ?',
      original,
    );
    expect(row.conversation_id).toBe(conversation);
    expect(row.text).toBe('I want 4 boxes');
    expect(JSON.parse(row.edit_history)).toEqual([expect.objectContaining({ text: 'I want 3 boxes' })]);
  });

  it('a Business-app echo without a conversation joins it when an earlier customer message arrives', async () => {
    // The echo came while the customer had no conversation; the conversation was then opened by a
    // later message, and a customer message written before the echo is delivered last.
    const echo = wamid('echo');
    await deliver(
      t,
      signed(
        deliveryOf([
          {
            field: 'smb_message_echoes',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: PNID },
              message_echoes: [
                {
                  from: '15550783881',
                  to: CUSTOMER,
                  id: echo,
                  timestamp: String(T0 - 300),
                  type: 'text',
                  text: { body: 'We are on it' },
                },
              ],
            },
          },
        ]),
      ),
    );
    expect(
      one<{ conversation_id: string | null }>(
        t,
        'select conversation_id from messages where wamid = ?',
        echo,
      ),
    ).toEqual({ conversation_id: null });
    await deliver(t, writes(wamid('later'), T0 - 60, 'Any news?'));
    const conversation = one<{ id: string }>(t, 'select id from conversations where closed_at is null').id;
    await deliver(t, writes(wamid('earlier'), T0 - 400, 'Where is my parcel?'));
    expect(one(t, 'select conversation_id from messages where wamid = ?', echo)).toEqual({
      conversation_id: conversation,
    });
  });

  it('a follow-up sent in the attribution window earns the reply', async () => {
    const conversation = await openConversation();
    exec(
      t,
      `insert into follow_ups (id, conversation_id, rule_id, silence_from, sequence, due_at, state, lease_until,
         outbox_id, sent_wamid, skip_reason, replied_at, created_at, updated_at)
       values ('fu-1', ?, 'nudge', ?, 0, ?, 'sent', null, null, ?, null, null, ?, ?)`,
      conversation,
      (T0 - 500) * 1000,
      (T0 - 200) * 1000,
      wamid('follow-up'),
      (T0 - 500) * 1000,
      (T0 - 200) * 1000,
    );
    await deliver(t, writes(wamid('reply'), T0 - 100, 'Thanks, yes please'));
    expect(one(t, `select replied_at from follow_ups where id = 'fu-1'`)).toEqual({
      replied_at: (T0 - 100) * 1000,
    });
  });

  it('a campaign send in the attribution window earns the reply and marks the conversation', async () => {
    const conversation = await openConversation();
    exec(
      t,
      `insert into agents (uuid, name, kind, phone_number_id, created_at) values ('agent-1', 'Shop', 'private', ?, 0)`,
      PNID,
    );
    const agent = one<{ id: number }>(t, `select id from agents where uuid = 'agent-1'`).id;
    exec(
      t,
      `insert into campaigns (id, agent_id, phone_number_id, name, state, template, rate_per_second, start_at,
         created_at, updated_at, started_at, paused_at, completed_at, cancelled_at, recipients_total,
         count_queued, count_sent, count_delivered, count_read, count_replied, count_failed,
         count_skipped_opted_out)
       values ('cmp-1', ?, ?, 'spring', 'running', 'spring_offer', 10, null, ?, ?, ?, null, null, null, 1,
         0, 1, 0, 0, 0, 0, 0)`,
      agent,
      PNID,
      (T0 - 900) * 1000,
      (T0 - 900) * 1000,
      (T0 - 900) * 1000,
    );
    exec(
      t,
      `insert into campaign_recipients (id, campaign_id, "index", wa_id, contact_id, parameters, state, outbox_id,
         wamid, error_code, error_title, sent_at, replied_at, conversation_id, updated_at)
       values ('rcp-1', 'cmp-1', 0, ?, null, null, 'sent', null, ?, null, null, ?, null, null, ?)`,
      CUSTOMER,
      wamid('campaign'),
      (T0 - 300) * 1000,
      (T0 - 300) * 1000,
    );
    await deliver(t, writes(wamid('reply'), T0 - 100, 'Yes, I am interested'));
    expect(one(t, `select state, conversation_id from campaign_recipients where id = 'rcp-1'`)).toEqual({
      state: 'replied',
      conversation_id: conversation,
    });
    expect(rows(t, 'select campaign_id from conversations where id = ?', conversation)).toEqual([
      { campaign_id: 'cmp-1' },
    ]);
  });
});
