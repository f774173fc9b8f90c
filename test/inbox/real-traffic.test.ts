// SPEC §3a through the HTTP API: Meta's real deliveries (test/fixtures/whatsapp/traffic_*.json, built
// from Meta's webhook reference and signed as Meta does), each posted twice and, where the order can
// vary, in both orders. What a user sees: contacts, conversations, messages with reactions and edits.
import { afterEach, describe, expect, it } from 'vitest';
import { buildRealTraffic } from '../../src/webhook/sample-real-traffic.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliver, type Fixture, fixture, PNID, signed } from '../webhook/deliveries.js';
import { rows } from './db-view.js';

const RUNTIME = '/api/extensions/native-whatsapp/runtime';
// The traffic_* fixtures are dated T0 + 50,000 s onwards (2026-01-06T21:53Z); the clock is just after.
const START = '2026-01-06T22:30:00Z';
const OLD = 'DE.5500112233445566778';
const NEW = 'DE.6600112233445566779';
const NEWER = 'DE.7700112233445566780';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

interface Message {
  wamid: string;
  direction: string;
  type: string;
  text: string | null;
  source: string | null;
  error_code: number | null;
  error_title: string | null;
  context_wamid: string | null;
  reactions: { emoji: string; direction: string }[];
  edit_history: { text: string | null }[];
  edited_at: string | null;
  deleted_at: string | null;
}
interface Snapshot {
  conversation_id: string;
  queue_state: string;
  wa_id: string | null;
  group_id: string | null;
  reply_rate: number | null;
  queue_pressure: number;
  closed_reason: string | null;
}
interface Contact {
  contact_id: string;
  wa_id: string | null;
  user_id: string | null;
  opted_out: boolean;
}
interface ContactDetail extends Contact {
  identities: { kind: string; value: string }[];
  identity_changes: { kind: string; previous: string | null; current: string; source: string }[];
  conversations: Snapshot[];
  messages: Message[];
}

async function get<T>(path: string): Promise<T> {
  const res = await t.request(path, { token: t.tokens.standard });
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return (await res.json()) as T;
}
const contactsBy = async (q: string) => (await get<{ items: Contact[] }>(`${RUNTIME}/contacts?${q}`)).items;
const contactDetail = (id: string) => get<ContactDetail>(`${RUNTIME}/contacts/${id}`);
const conversationsBy = async (q = '') =>
  (await get<{ items: Snapshot[] }>(`${RUNTIME}/conversations${q ? `?${q}` : ''}`)).items;
const conversation = (id: string) =>
  get<Snapshot & { messages: Message[]; drafts: unknown[] }>(`${RUNTIME}/conversations/${id}`);

/** Delivers every fixture twice (Meta redelivers), in the order given. */
async function twice(...names: string[]): Promise<void> {
  const fx: Fixture[] = names.map((n) => fixture(n));
  for (const f of fx) await deliver(t, f, f);
}

const orders = (...names: string[]) => [names, [...names].reverse()];

describe('identity changes (SPEC §3a)', () => {
  it.each([
    [
      'notice before the next message',
      [
        'traffic_bsuid_text_before_change.json',
        'traffic_system_user_changed_user_id_no_sender.json',
        'traffic_bsuid_text_after_change.json',
      ],
    ],
    [
      'next message before the notice',
      [
        'traffic_bsuid_text_before_change.json',
        'traffic_bsuid_text_after_change.json',
        'traffic_system_user_changed_user_id_no_sender.json',
      ],
    ],
    [
      'notice first of all',
      [
        'traffic_system_user_changed_user_id_no_sender.json',
        'traffic_bsuid_text_before_change.json',
        'traffic_bsuid_text_after_change.json',
      ],
    ],
  ])(
    'user_changed_user_id without from or contacts links old and new BSUID to one contact (%s)',
    async (_, order) => {
      t = await createTestApp({ start: START });
      await twice(...order);
      const [byOld] = await contactsBy(`user_id=${OLD}`);
      const [byNew] = await contactsBy(`user_id=${NEW}`);
      expect(byOld?.contact_id).toBeDefined();
      expect(byNew?.contact_id).toBe(byOld?.contact_id);
      expect(byNew?.user_id).toBe(NEW);
      expect(await contactsBy('')).toHaveLength(1);
      const detail = await contactDetail(byOld?.contact_id as string);
      expect(detail.identities.map((i) => i.value).sort()).toEqual([OLD, NEW]);
      expect(detail.identity_changes).toEqual([
        expect.objectContaining({ kind: 'user_id', previous: OLD, current: NEW, source: 'system_message' }),
      ]);
      // One history: both texts under this contact, one conversation still active.
      const texts = [];
      for (const c of detail.conversations) {
        for (const m of (await conversation(c.conversation_id)).messages)
          if (m.type === 'text') texts.push(m.text);
      }
      expect(texts.sort()).toEqual(['Any news?', 'Is my order on its way?']);
      expect(detail.conversations.filter((c) => c.queue_state !== 'closed')).toHaveLength(1);
    },
  );

  it('the ids may be named only in the system body', async () => {
    t = await createTestApp({ start: START });
    await twice(
      'traffic_bsuid_text_before_change.json',
      'traffic_system_user_changed_user_id_body_only.json',
      'traffic_bsuid_text_after_change.json',
    );
    const all = await contactsBy('');
    expect(all).toHaveLength(1);
    expect(all[0]?.user_id).toBe(NEW);
    expect(await conversationsBy()).toHaveLength(1);
  });

  it.each(orders('traffic_phone_text_with_user_id.json', 'traffic_user_id_update.json'))(
    'user_id_update links previous and current BSUID to the phone number’s contact (%s first)',
    async (...order) => {
      t = await createTestApp({ start: START });
      await twice(...order);
      const all = await contactsBy('');
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ wa_id: '4917000000030', user_id: NEWER });
      expect((await contactsBy(`user_id=${NEW}`))[0]?.contact_id).toBe(all[0]?.contact_id);
      const detail = await contactDetail(all[0]?.contact_id as string);
      expect(detail.identity_changes.filter((c) => c.source === 'user_id_update')).toHaveLength(1);
    },
  );

  it('a message whose sender is only in value.contacts belongs to that contact', async () => {
    t = await createTestApp({ start: START });
    await twice('traffic_text_sender_only_in_contacts.json');
    const [otto] = await contactsBy('wa_id=4917000000031');
    expect(otto).toBeDefined();
    const [conv] = await conversationsBy('wa_id=4917000000031');
    expect((await conversation(conv?.conversation_id as string)).messages.map((m) => m.text)).toEqual([
      'Hello, I need a quote',
    ]);
  });
});

describe('messages outside any conversation are visible under their contact', () => {
  it('a 👍 on a campaign send opens nothing and is listed under the contact', async () => {
    t = await createTestApp({ start: START });
    await twice('traffic_reaction_to_campaign_send.json');
    expect(await conversationsBy()).toEqual([]);
    const [ines] = await contactsBy('wa_id=34600000032');
    const detail = await contactDetail(ines?.contact_id as string);
    expect(detail.conversations).toEqual([]);
    expect(detail.messages).toMatchObject([{ type: 'reaction', text: '👍', direction: 'inbound' }]);
  });

  it('the contacts API: pagination, filters, 404, standard tier, OpenAPI', async () => {
    t = await createTestApp({ start: START });
    await twice(
      'traffic_text_sender_only_in_contacts.json',
      'traffic_reaction_to_campaign_send.json',
      'traffic_text_question.json',
    );
    const first = await get<{ items: Contact[]; next_cursor: string | null }>(`${RUNTIME}/contacts?limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await get<{ items: Contact[]; next_cursor: string | null }>(
      `${RUNTIME}/contacts?limit=2&cursor=${first.next_cursor}`,
    );
    expect(second).toMatchObject({ next_cursor: null });
    expect(new Set([...first.items, ...second.items].map((c) => c.contact_id)).size).toBe(3);
    expect(await contactsBy('wa_id=4917000009999')).toEqual([]);
    const missing = await t.request(`${RUNTIME}/contacts/nope`, { token: t.tokens.standard });
    expect(missing.status).toBe(404);
    const bad = await t.request(`${RUNTIME}/contacts?wa_id=abc`, { token: t.tokens.standard });
    expect(bad.status).toBe(400);
    expect((await t.request(`${RUNTIME}/contacts`, { token: null })).status).toBe(401);
    const doc = (await (await t.request('/api/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/extensions/native-whatsapp/runtime/contacts',
        '/api/extensions/native-whatsapp/runtime/contacts/{contact_id}',
      ]),
    );
  });
});

describe('smb_message_echoes and reactions', () => {
  it.each(orders('traffic_text_question.json', 'traffic_echo_text.json'))(
    'a reply from the Business app is stored as business_app and answers the turn (%s first)',
    async (...order) => {
      t = await createTestApp({ start: START });
      await twice(...order);
      const [conv] = await conversationsBy();
      expect(conv).toMatchObject({ queue_state: 'pending', reply_rate: 1, queue_pressure: 0 });
      const detail = await conversation(conv?.conversation_id as string);
      expect(detail.messages.map((m) => [m.direction, m.source, m.text])).toEqual([
        ['inbound', null, 'Do you deliver on Sundays?'],
        ['outbound', 'business_app', 'Yes, from 9 to 13h.'],
      ]);
      // Never sent by the daemon.
      expect(rows(t, 'select id from outbox')).toEqual([]);
    },
  );

  it.each([
    ['in order', ['traffic_text_question.json', 'traffic_echo_text.json', 'traffic_reaction_to_echo.json']],
    [
      'reaction before its target',
      ['traffic_text_question.json', 'traffic_reaction_to_echo.json', 'traffic_echo_text.json'],
    ],
  ])('a reaction is shown on the message it targets and is not a customer turn (%s)', async (_, order) => {
    t = await createTestApp({ start: START });
    await twice(...order);
    const [conv] = await conversationsBy();
    expect(conv).toMatchObject({ queue_state: 'pending', queue_pressure: 0, reply_rate: 1 });
    const echo = (await conversation(conv?.conversation_id as string)).messages.find(
      (m) => m.source === 'business_app',
    );
    expect(echo?.reactions).toEqual([expect.objectContaining({ emoji: '❤️', direction: 'inbound' })]);

    await twice('traffic_reaction_to_echo_removed.json');
    const after = (await conversation(conv?.conversation_id as string)).messages.find(
      (m) => m.source === 'business_app',
    );
    expect(after?.reactions).toEqual([]);
    expect((await conversationsBy())[0]).toMatchObject({ queue_state: 'pending', queue_pressure: 0 });
  });
});

describe('edits and revokes', () => {
  it.each([
    ['original, edit, revoke', ['traffic_text_original.json', 'traffic_edit.json', 'traffic_revoke.json']],
    [
      'edit and revoke before the original',
      ['traffic_revoke.json', 'traffic_edit.json', 'traffic_text_original.json'],
    ],
  ])(
    'an edit replaces the text and keeps history, a revoke marks it deleted; no new turn (%s)',
    async (_, order) => {
      t = await createTestApp({ start: START });
      await twice(...order);
      const all = await conversationsBy();
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ queue_state: 'open', queue_pressure: 1 });
      const original = (await conversation(all[0]?.conversation_id as string)).messages.find(
        (m) => m.type === 'text',
      );
      expect(original).toMatchObject({ text: 'I want 4 boxes', edit_history: [{ text: 'I want 3 boxes' }] });
      expect(original?.edited_at).not.toBeNull();
      expect(original?.deleted_at).not.toBeNull();
    },
  );
});

describe('groups', () => {
  it('a group message goes to the group’s conversation, flagged, never answered, not in insights', async () => {
    t = await createTestApp({ start: START, config: { runtime: { automation_mode: 'autonomous' } } });
    await twice('traffic_group_text.json');
    const [conv] = await conversationsBy();
    expect(conv).toMatchObject({
      group_id: 'Y2FwaV9ncm91cDo0OTE3MDAwMDAwMDMxOjEyMDM2MzAyNzA5MzQ1NjcxMg',
      wa_id: null,
    });
    expect((await conversation(conv?.conversation_id as string)).drafts).toEqual([]);
    expect(rows(t, 'select id from responder_jobs')).toEqual([]);
    const insights = await get<{ metrics: { conversations_active: number } }>(`${RUNTIME}/insights`);
    expect(insights.metrics.conversations_active).toBe(0);
    // The participant is still a contact of their own, with no one-to-one conversation.
    const [otto] = await contactsBy('wa_id=4917000000031');
    expect((await contactDetail(otto?.contact_id as string)).conversations).toEqual([]);
  });
});

describe('fields of unexpected types, value-level errors, other fields', () => {
  it('a wrong-typed field drops only itself; the value-level error is kept on the message', async () => {
    t = await createTestApp({ start: START });
    await twice('traffic_message_odd_field_with_errors.json');
    const [conv] = await conversationsBy();
    const [m] = (await conversation(conv?.conversation_id as string)).messages;
    expect(m).toMatchObject({
      text: 'Where is my parcel?',
      context_wamid: null,
      error_code: 131052,
      error_title: 'Media download error',
    });
  });

  it('another field is recorded and logged once per content, however often it is delivered', async () => {
    t = await createTestApp();
    await deliver(
      t,
      fixture('field_phone_number_quality_update.json'),
      fixture('field_phone_number_quality_update.json'),
    );
    await deliver(
      t,
      fixture('field_messages_errors_130429.json'),
      fixture('field_messages_errors_130429.json'),
    );
    expect(rows(t, 'select field from webhook_events order by field')).toEqual([
      { field: 'messages' },
      { field: 'phone_number_quality_update' },
    ]);
    expect(t.logs().filter((l) => l.event === 'webhook.field')).toHaveLength(2);
  });
});

describe('simulate --scenario real-traffic', () => {
  it('every delivery is accepted and shows its case through the API', async () => {
    t = await createTestApp({ start: START });
    let n = 0;
    const built = buildRealTraffic({ now: t.clock.now(), phoneNumberId: PNID, uniqueId: () => `SIM${++n}` });
    for (const d of built) await deliver(t, signed(d.body));
    const items = await conversationsBy();
    const paula = items.find((c) => c.wa_id === '5511900000033');
    expect(paula).toMatchObject({ queue_state: 'pending', queue_pressure: 0 });
    const messages = (await conversation(paula?.conversation_id as string)).messages;
    expect(messages.find((m) => m.source === 'business_app')?.reactions).toHaveLength(1);
    expect(messages.find((m) => m.type === 'text')?.edit_history).toHaveLength(1);
    expect(items.filter((c) => c.group_id !== null)).toHaveLength(1);
    expect(await contactsBy(`user_id=${NEW}`)).toHaveLength(1);
    expect((await contactsBy(`user_id=${OLD}`))[0]?.user_id).toBe(NEW);
  });
});
