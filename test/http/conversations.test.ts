// GET .../runtime/conversations and .../conversations/:id: snapshots built from what came in,
// filters, keyset pagination that is stable while new conversations arrive, detail with messages in
// timestamp order, errors and tiers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { exec } from '../inbox/db-view.js';
import {
  BSUID_FIXTURE_DAY,
  deliver,
  deliveryOf,
  fixture,
  messagesChange,
  PNID,
  signed,
} from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/conversations';
const T0 = 1767600000;

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

interface Snapshot {
  conversation_id: string;
  queue_state: string;
  wa_id: string | null;
  last_message_at: string;
  [k: string]: unknown;
}
interface Page {
  items: Snapshot[];
  next_cursor: string | null;
}
type ErrorBody = { error: { code: string; message: string; details?: { path: string }[] } };

const get = async <T>(path: string, token?: string | null): Promise<{ status: number; body: T }> => {
  const res = await t.request(path, { token: token === undefined ? t.tokens.standard : token });
  return { status: res.status, body: (await res.json()) as T };
};

/** One text message from `wa` at T0 + offset seconds. */
const say = (wa: string, offset: number, body = 'hello', pnid = PNID) =>
  signed(
    deliveryOf([
      messagesChange(
        [{ wa_id: wa, name: `Customer ${wa}` }],
        [{ from: wa, timestamp: T0 + offset, body }],
        pnid,
      ),
    ]),
  );

describe('GET /runtime/conversations', () => {
  it('lists MessagingSnapshots with the seed fields and the added ones', async () => {
    await deliver(t, fixture('msg_text_plain.json'));
    const { status, body } = await get<Page>(BASE);
    expect(status).toBe(200);
    expect(body.next_cursor).toBeNull();
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toEqual({
      extension_slug: 'native-whatsapp',
      platform: 'whatsapp',
      conversation_id: expect.any(String),
      queue_state: 'open',
      // The default automation_mode is `assisted`: new conversations are routed hybrid (SPEC §4).
      assigned_route: 'hybrid',
      reply_rate: 0,
      queue_pressure: 1,
      last_message_at: '2026-01-05T08:00:00.000Z',
      updated_at: '2026-01-05T08:00:00.000Z',
      wa_id: '4917000000001',
      user_id: null,
      contact_name: 'Jonas Becker',
      phone_number_id: '106540352242922',
      agent_uuid: null,
      conversation_class: 'general',
      priority: 'normal',
      window_expires_at: '2026-01-06T08:00:00.000Z',
      escalation_reason: null,
      closed_reason: null,
      campaign_id: null,
      opened_at: '2026-01-05T08:00:00.000Z',
      closed_at: null,
      group_id: null,
    });
  });

  it('is newest activity first', async () => {
    await deliver(t, say('4917000000601', 10), say('4917000000602', 30), say('4917000000603', 20));
    const { body } = await get<Page>(BASE);
    expect(body.items.map((i) => i.wa_id)).toEqual(['4917000000602', '4917000000603', '4917000000601']);
  });

  it('pages with an opaque cursor; conversations that arrive meanwhile do not shift later pages', async () => {
    for (let i = 0; i < 7; i++) await deliver(t, say(`49170000007${String(i).padStart(2, '0')}`, i));
    const first = await get<Page>(`${BASE}?limit=3`);
    expect(first.body.items.map((i) => i.wa_id)).toEqual(['4917000000706', '4917000000705', '4917000000704']);
    // A newer conversation arrives between page requests.
    await deliver(t, say('4917000000799', 100));
    const second = await get<Page>(`${BASE}?limit=3&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((i) => i.wa_id)).toEqual([
      '4917000000703',
      '4917000000702',
      '4917000000701',
    ]);
    const third = await get<Page>(`${BASE}?limit=3&cursor=${second.body.next_cursor}`);
    expect(third.body.items.map((i) => i.wa_id)).toEqual(['4917000000700']);
    expect(third.body.next_cursor).toBeNull();
  });

  it('pages conversations with the same last activity by id without gaps or repeats', async () => {
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            ['4917000000801', '4917000000802', '4917000000803', '4917000000804'].map((wa_id) => ({ wa_id })),
            ['4917000000801', '4917000000802', '4917000000803', '4917000000804'].map((from) => ({
              from,
              timestamp: T0,
            })),
          ),
        ]),
      ),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      pages += 1;
      const { body }: { body: Page } = await get<Page>(`${BASE}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.items.map((i) => i.conversation_id));
      cursor = body.next_cursor;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
  });

  it('filters by queue_state, assigned_route and wa_id (old numbers included)', async () => {
    await deliver(
      t,
      say('4917000000010', -60),
      fixture('msg_system_user_changed_number.json'),
      say('4917000000901', 5),
    );
    exec(
      t,
      "update conversations set queue_state = 'escalated', assigned_route = 'human' where contact_id = (select id from contacts where wa_id = '4917000000901')",
    );
    const escalated = await get<Page>(`${BASE}?queue_state=escalated`);
    expect(escalated.body.items.map((i) => i.wa_id)).toEqual(['4917000000901']);
    expect((await get<Page>(`${BASE}?queue_state=pending`)).body.items).toEqual([]);
    expect((await get<Page>(`${BASE}?assigned_route=human`)).body.items.map((i) => i.wa_id)).toEqual([
      '4917000000901',
    ]);
    // The customer changed 4917000000010 → 4917000000012: either number finds the conversation.
    for (const wa of ['4917000000010', '4917000000012']) {
      expect((await get<Page>(`${BASE}?wa_id=${wa}`)).body.items.map((i) => i.wa_id)).toEqual([
        '4917000000012',
      ]);
    }
    expect((await get<Page>(`${BASE}?wa_id=4917000000010&queue_state=escalated`)).body.items).toEqual([]);
  });

  it('filters by agent_uuid: the agent attached to the business number owns its conversations', async () => {
    const uuid = '7b0e2f6c-1f0a-4d6e-9a55-3f1c2b7d9e01';
    const created = await t.request('/api/agents', {
      body: { name: 'Support', uuid, phone_number_id: PNID },
    });
    expect(created.status).toBe(201);
    await deliver(t, say('4917000001001', 1), say('4917000001002', 2, 'hi', '555000111222'));
    const mine = await get<Page>(`${BASE}?agent_uuid=${uuid}`);
    expect(mine.body.items.map((i) => [i.wa_id, i.agent_uuid])).toEqual([['4917000001001', uuid]]);
    expect((await get<Page>(`${BASE}?agent_uuid=someone-else`)).body.items).toEqual([]);
    const all = await get<Page>(BASE);
    expect(all.body.items.map((i) => i.agent_uuid)).toEqual([null, uuid]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['queue_state=waiting', 'queue_state'],
    ['assigned_route=robot', 'assigned_route'],
    ['wa_id=%2B49170', 'wa_id'],
    ['cursor=not-a-cursor', 'cursor'],
    ['colour=blue', 'colour'],
  ])('400 for %s, naming the parameter', async (q, field) => {
    const { status, body } = await get<ErrorBody>(`${BASE}?${q}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details?.map((d) => d.path)).toContain(field);
  });

  it('needs a token: 401 without one; standard and root may read', async () => {
    expect((await get<ErrorBody>(BASE, null)).status).toBe(401);
    expect((await get<Page>(BASE, t.tokens.standard)).status).toBe(200);
    expect((await get<Page>(BASE, t.tokens.root)).status).toBe(200);
  });
});

describe('GET /runtime/conversations/:conversation_id', () => {
  it('returns the snapshot, messages in timestamp order, its transitions and follow-ups', async () => {
    // Delivered in reverse order: the detail still lists them by Meta's timestamps.
    await deliver(
      t,
      say('4917000001101', 30, 'third'),
      say('4917000001101', 10, 'first'),
      say('4917000001101', 20, 'second'),
    );
    const [item] = (await get<Page>(BASE)).body.items;
    const { status, body } = await get<
      Snapshot & {
        messages: Record<string, unknown>[];
        transitions: unknown[];
        follow_ups: unknown[];
        messages_truncated: boolean;
      }
    >(`${BASE}/${item?.conversation_id}`);
    expect(status).toBe(200);
    // Three customer messages without a reply fire the unanswered-messages escalation rule.
    expect(body).toMatchObject({
      conversation_id: item?.conversation_id,
      queue_state: 'escalated',
      queue_pressure: 3,
    });
    expect(body.messages.map((m) => m.text)).toEqual(['first', 'second', 'third']);
    expect(body.messages[0]).toEqual({
      wamid: expect.stringMatching(/^wamid\./),
      direction: 'inbound',
      type: 'text',
      text: 'first',
      status: 'received',
      error_code: null,
      error_title: null,
      context_wamid: null,
      timestamp: '2026-01-05T08:00:10.000Z',
      payload: expect.objectContaining({ type: 'text', text: { body: 'first' }, timestamp: String(T0 + 10) }),
      media: null,
      source: null,
      reactions: [],
      edited_at: null,
      edit_history: [],
      deleted_at: null,
    });
    expect(body.transitions).toEqual([
      { from: null, to: 'open', reason: 'new_conversation', actor: 'customer', at: expect.any(String) },
      {
        from: 'open',
        to: 'escalated',
        reason: 'escalation: 3 customer messages without a reply',
        actor: 'system',
        at: expect.any(String),
      },
    ]);
    expect(body.follow_ups).toEqual([]);
    expect(body.messages_truncated).toBe(false);
  });

  it('payload is the message as Meta sent it, with escaped characters decoded', async () => {
    await deliver(t, fixture('msg_text_accents_url.json'));
    const [item] = (await get<Page>(BASE)).body.items;
    const { body } = await get<{ messages: { payload: { text: { body: string } } }[] }>(
      `${BASE}/${item?.conversation_id}`,
    );
    expect(body.messages[0]?.payload.text.body).toContain(
      'https://loja.exemplo.com.br/pedidos/4521?ref=promoção&',
    );
  });

  it('message_limit keeps the latest messages and says the list is truncated', async () => {
    for (let i = 0; i < 5; i++) await deliver(t, say('4917000001201', i, `m${i}`));
    const [item] = (await get<Page>(BASE)).body.items;
    const { body } = await get<{ messages: { text: string }[]; messages_truncated: boolean }>(
      `${BASE}/${item?.conversation_id}?message_limit=2`,
    );
    expect(body.messages.map((m) => m.text)).toEqual(['m3', 'm4']);
    expect(body.messages_truncated).toBe(true);
  });

  it('a BSUID-only customer shows user_id and a null wa_id', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_text_username_only.json'));
    const [item] = (await get<Page>(BASE)).body.items;
    expect(item).toMatchObject({ wa_id: null, user_id: 'ES.8812736450019283746', contact_name: 'Sheila M.' });
  });

  it('404 with the error envelope for an unknown id', async () => {
    const { status, body } = await get<ErrorBody>(`${BASE}/01JUNKNOWN0000000000000000`);
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it('401 without a token', async () => {
    expect((await get<ErrorBody>(`${BASE}/x`, null)).status).toBe(401);
  });
});
