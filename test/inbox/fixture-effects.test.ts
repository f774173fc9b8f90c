// Every fixture delivered through the real route and processed from the inbox, with the effect its
// README row expects (opt-out, escalation and classification belong to the conversation engine).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { acceptedFixtureNames, BSUID_FIXTURE_DAY, deliver, fixture } from '../webhook/deliveries.js';
import {
  contacts,
  conversations,
  identities,
  inboxStates,
  type MessageView,
  messages,
  one,
  rows,
  statusEvents,
  webhookErrors,
  webhookEvents,
} from './db-view.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const payload = (m: MessageView | undefined) => JSON.parse(m?.payload ?? 'null');

describe('every accepted fixture', () => {
  it.each(acceptedFixtureNames())('%s is processed once, without retry or dead letter', async (name) => {
    await deliver(t, fixture(name));
    expect(inboxStates(t)).toEqual(['processed']);
    expect(one<{ attempts: number }>(t, 'select attempts from inbox').attempts).toBe(0);
  });
});

describe('message types are stored with their text, context and raw payload', () => {
  const single = async (name: string) => {
    await deliver(t, fixture(name));
    const all = messages(t);
    expect(all).toHaveLength(1);
    const m = all[0] as MessageView;
    expect(m.direction).toBe('inbound');
    return m;
  };

  it('text: plain ASCII opens a conversation for the sender on the business number', async () => {
    const m = await single('msg_text_plain.json');
    expect(m).toMatchObject({ type: 'text', text: 'Hi, do you ship to Berlin?', status: 'received' });
    expect(m.timestamp).toBe(1767600000_000);
    const [conv] = conversations(t);
    expect(conv).toMatchObject({
      phone_number_id: '106540352242922',
      queue_state: 'open',
      unanswered_count: 1,
      turns_total: 1,
      last_customer_message_at: 1767600000_000,
      window_expires_at: 1767600000_000 + 24 * 3600_000,
    });
    expect(m.conversation_id).toBe(conv?.id);
    expect(contacts(t)).toMatchObject([{ wa_id: '4917000000001', profile_name: 'Jonas Becker' }]);
  });

  it('text: escaped emoji (surrogate pairs, skin tone, U+FE0F) decode exactly', async () => {
    const m = await single('msg_text_emoji.json');
    expect(m.text).toBe('Danke!! 👍🏽 Das Paket ist da 📦❤️ 😂');
    expect(contacts(t)[0]?.profile_name).toBe('Zoë Müller');
  });

  it('text: accents and a URL with \\/ decode to plain characters', async () => {
    const m = await single('msg_text_accents_url.json');
    expect(m.text).toContain('https://loja.exemplo.com.br/pedidos/4521?ref=promoção&utm_source=whatsapp');
    expect(m.text).toContain('Não consegui pagar o pedido nº 4521');
  });

  it('text: a reply keeps the replied-to wamid even though that message is unknown', async () => {
    const m = await single('msg_text_reply_context.json');
    expect(m.context_wamid).toBe('wamid.HBgNNTUxMTkwMDAwMDAwMhUCABEYEkVDQzM4Q0I5N0FDOERGNTA1OQA=');
  });

  it('text: a forward keeps context.forwarded and is not a reply', async () => {
    const m = await single('msg_text_forwarded.json');
    expect(m.context_wamid).toBeNull();
    expect(payload(m).context).toEqual({ forwarded: true });
  });

  it('text: 4096 characters are stored untruncated', async () => {
    const m = await single('msg_text_long_4096.json');
    expect([...(m.text ?? '')]).toHaveLength(4096);
  });

  it('text: a click-to-WhatsApp referral is kept', async () => {
    const m = await single('msg_referral_ctwa_ad.json');
    expect(payload(m).referral).toMatchObject({ source_type: 'ad', source_id: '120219834562170045' });
    expect(payload(m).referral.ctwa_clid).toMatch(/^ARAkLkA8/);
  });

  it.each([
    ['msg_image.json', 'image', 'Foto do produto com defeito'],
    ['msg_video.json', 'video', 'Así llegó la caja 😞'],
    ['msg_document.json', 'document', 'Rechnung März'],
    ['msg_audio_voice.json', 'audio', null],
    ['msg_sticker.json', 'sticker', null],
  ])('media %s: type %s, caption as text, media id and URL kept', async (name, type, caption) => {
    const m = await single(name);
    expect(m.type).toBe(type);
    expect(m.text).toBe(caption);
    const media = payload(m)[type];
    expect(media.id).toMatch(/^\d+$/);
    expect(media.url).toMatch(/^https:\/\/lookaside\.fbsbx\.com\/whatsapp_business\/attachments\/\?mid=/);
  });

  it('document keeps its filename; audio keeps voice: true', async () => {
    await deliver(t, fixture('msg_document.json'), fixture('msg_audio_voice.json'));
    const [audio, doc] = messages(t);
    expect(payload(doc).document.filename).toBe('Rechnung-2026-0042.pdf');
    expect(payload(audio).audio.voice).toBe(true);
  });

  it('location keeps numeric coordinates; its name is the text', async () => {
    const m = await single('msg_location.json');
    expect(m.text).toBe('Alexanderplatz');
    expect(payload(m).location).toMatchObject({ latitude: 52.521918, longitude: 13.413215 });
  });

  it('a shared contact card is not mistaken for the sender', async () => {
    const m = await single('msg_contacts.json');
    expect(m.type).toBe('contacts');
    expect(contacts(t)).toMatchObject([{ wa_id: '5511900000002', profile_name: 'Ana Paula Ferreira' }]);
    expect(payload(m).contacts[0].phones[0].wa_id).toBe('5511988887777');
  });

  it.each([
    ['msg_interactive_button_reply.json', 'interactive', 'Pagar com Pix', 'button_reply', 'pay-pix'],
    ['msg_interactive_list_reply.json', 'interactive', 'Envío express', 'list_reply', 'shipping_express'],
  ])('%s: the title is the text, the id is kept', async (name, type, text, kind, id) => {
    const m = await single(name);
    expect(m).toMatchObject({ type, text });
    expect(payload(m).interactive[kind].id).toBe(id);
  });

  it('a template quick reply (type button) is distinct from interactive', async () => {
    const m = await single('msg_button_template_quick_reply.json');
    expect(m).toMatchObject({ type: 'button', text: 'Confirmar entrega' });
    expect(payload(m).button.payload).toBe('CONFIRM_DELIVERY_4521');
  });

  it('a reaction keeps its emoji and the reacted-to wamid', async () => {
    const m = await single('msg_reaction.json');
    expect(m).toMatchObject({
      type: 'reaction',
      text: '👍',
      context_wamid: 'wamid.HBgNNDkxNzAwMDAwMDAwMRUCABEYEjZBODIxQTFCM0E0RTMyOUI5QwA=',
    });
  });

  it.each(['msg_reaction_removed.json', 'msg_reaction_removed_empty_emoji.json'])(
    '%s is stored as a removal (no text)',
    async (name) => {
      const m = await single(name);
      expect(m).toMatchObject({ type: 'reaction', text: null });
    },
  );

  it('an order keeps prices as numbers and its note as text', async () => {
    const m = await single('msg_order.json');
    expect(m).toMatchObject({ type: 'order', text: '¿Me lo pueden enviar hoy?' });
    expect(payload(m).order.product_items.map((i: { item_price: number }) => i.item_price)).toEqual([
      8.95, 12,
    ]);
  });

  it('unsupported (131051) is stored with its error, never rejected or retried', async () => {
    const m = await single('msg_unsupported_131051.json');
    expect(m).toMatchObject({ type: 'unsupported', error_code: 131051, error_title: 'Message type unknown' });
    expect(payload(m).unsupported.type).toBe('poll');
  });

  it('a system user_changed_number records the new number on the same contact', async () => {
    const m = await single('msg_system_user_changed_number.json');
    expect(m.type).toBe('system');
    expect(m.text).toBe('User Karim Haddad changed from 4917000000010 to 4917000000012');
    const [c] = contacts(t) as { id: string; wa_id: string }[];
    expect(c?.wa_id).toBe('4917000000012');
    expect(identities(t, c?.id as string)).toEqual(['wa_id:4917000000010', 'wa_id:4917000000012']);
  });
});

describe('batches', () => {
  it('three messages of one contact land in one conversation, in timestamp order', async () => {
    await deliver(t, fixture('batch_one_contact_three_messages.json'));
    expect(messages(t).map((m) => m.text)).toEqual([
      'oi',
      'tem alguém aí?',
      'preciso de ajuda com a minha entrega',
    ]);
    expect(conversations(t)).toMatchObject([
      { unanswered_count: 3, turns_total: 1, last_message_at: 1767613845_000 },
    ]);
  });

  it('two contacts: each message goes to the contact named by its "from", not the first one', async () => {
    await deliver(t, fixture('batch_two_contacts.json'));
    const byWa = Object.fromEntries(contacts(t).map((c) => [c.wa_id, c.profile_name]));
    expect(byWa).toEqual({ '4917000000001': 'Jonas Becker', '34600000003': 'Lucía Martínez' });
    expect(conversations(t)).toHaveLength(2);
    const convOf = new Map(conversations(t).map((c) => [c.id, c.contact_id]));
    for (const m of messages(t)) expect(convOf.get(m.conversation_id as string)).toBe(m.contact_id);
  });

  it.each(['delivery_two_entries.json', 'delivery_two_changes.json'])(
    '%s: both the message and the status are processed',
    async (name) => {
      await deliver(t, fixture(name));
      expect(messages(t)).toHaveLength(1);
      expect(statusEvents(t)).toHaveLength(1);
    },
  );
});

describe('statuses', () => {
  it.each([
    ['status_sent.json', 'sent'],
    ['status_delivered.json', 'delivered'],
    ['status_read.json', 'read'],
    ['status_delivered_v24_free_customer_service.json', 'delivered'],
    ['status_sent_free_entry_point.json', 'sent'],
    ['bsuid_status_delivered.json', 'delivered'],
  ])('%s is kept (unapplied: its wamid is unknown) with pricing and conversation', async (name, status) => {
    if (name.startsWith('bsuid_')) t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture(name));
    const [e] = statusEvents(t);
    expect(e).toMatchObject({ status, applied_at: null });
    const raw = JSON.parse(e?.payload as string);
    expect(raw.pricing).toBeDefined();
    expect(messages(t)).toHaveLength(0);
  });

  it('a BSUID status keeps recipient_user_id', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_status_delivered.json'));
    expect(statusEvents(t)[0]?.recipient_user_id).toBe('BR.1502576394655843021');
  });

  it.each([
    ['status_failed_131026.json', 131026, 'Message undeliverable'],
    ['status_failed_131047.json', 131047, 'Re-engagement message'],
    ['status_failed_130429.json', 130429, 'Rate limit hit'],
  ])('%s records the error code and title', async (name, code, title) => {
    await deliver(t, fixture(name));
    expect(statusEvents(t)[0]).toMatchObject({ status: 'failed', error_code: code, error_title: title });
  });

  it('biz_opaque_callback_data is kept for correlation', async () => {
    await deliver(t, fixture('status_sent_biz_opaque_callback_data.json'));
    expect(statusEvents(t)[0]?.biz_opaque_callback_data).toBe('campaign=cmp_spring_2026;recipient=rcp_0042');
  });

  it('read then delivered in one body: both kept', async () => {
    await deliver(t, fixture('status_out_of_order_read_before_delivered.json'));
    expect(statusEvents(t).map((e) => e.status)).toEqual(['delivered', 'read']);
  });
});

describe('other fields are stored and logged', () => {
  it.each([
    ['field_phone_number_quality_update.json', 'phone_number_quality_update', 'THROUGHPUT_UPGRADE'],
    ['field_account_update_restriction.json', 'account_update', 'ACCOUNT_RESTRICTION'],
    ['field_messages_errors_130429.json', 'messages', 'errors'],
    ['optout_user_preferences_marketing_stop.json', 'user_preferences', 'marketing_messages:stop'],
    ['field_message_template_status_approved.json', 'message_template_status_update', 'APPROVED'],
  ])('%s → webhook_events (%s, %s), no message', async (name, field, event) => {
    await deliver(t, fixture(name));
    expect(webhookEvents(t)).toMatchObject([{ field, event }]);
    expect(messages(t)).toHaveLength(0);
    expect(t.logs().some((l) => l.event === 'webhook.field' && l.field === field)).toBe(true);
  });

  it('template status updates fill the template cache', async () => {
    await deliver(
      t,
      fixture('field_message_template_status_approved.json'),
      fixture('field_message_template_status_rejected.json'),
    );
    const templates = rows(t, 'select * from templates order by name');
    expect(templates).toMatchObject([
      {
        name: 'abandoned_cart',
        language: 'es',
        status: 'REJECTED',
        category: 'MARKETING',
        reason: 'INVALID_FORMAT',
      },
      {
        name: 'order_shipped',
        language: 'pt_BR',
        status: 'APPROVED',
        category: 'UTILITY',
        template_id: '1689556908129832',
        updated_at: 1767622200_000,
      },
    ]);
  });
});

describe('customers identified by BSUID', () => {
  it('a phone number and a BSUID are both kept on the contact', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_text_phone_and_user_id.json'));
    expect(contacts(t)).toMatchObject([{ wa_id: '5511900000021', user_id: 'BR.1502576394655843021' }]);
  });

  it('a username-only customer (no phone) gets a contact and a conversation', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_text_username_only.json'));
    expect(contacts(t)).toMatchObject([
      { wa_id: null, user_id: 'ES.8812736450019283746', username: '@sheila.m', profile_name: 'Sheila M.' },
    ]);
    expect(conversations(t)).toHaveLength(1);
    expect(messages(t)[0]?.conversation_id).toBe(conversations(t)[0]?.id);
  });

  it('user_changed_number (BSUID shape) links the new number and BSUID, keeping the old BSUID', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_system_user_changed_number.json'));
    const [c] = contacts(t) as { id: string }[];
    expect(c).toMatchObject({ wa_id: '5511900000022', user_id: 'BR.7730012984756201934' });
    expect(identities(t, c?.id as string)).toEqual([
      'user_id:BR.1502576394655843021',
      'user_id:BR.7730012984756201934',
      'wa_id:5511900000021',
      'wa_id:5511900000022',
    ]);
  });

  it('user_changed_user_id links the new BSUID to the same contact', async () => {
    t.clock.set(BSUID_FIXTURE_DAY);
    await deliver(t, fixture('bsuid_system_user_changed_user_id.json'));
    const [c] = contacts(t) as { id: string }[];
    expect(c).toMatchObject({ wa_id: null, user_id: 'ES.9906123478550012837' });
    expect(identities(t, c?.id as string)).toEqual([
      'user_id:ES.8812736450019283746',
      'user_id:ES.9906123478550012837',
    ]);
    const events = rows<{ data: string }>(
      t,
      "select data from domain_events where type = 'contact.identity_changed'",
    ).map((e) => JSON.parse(e.data));
    expect(events).toEqual([
      expect.objectContaining({ contact_id: c?.id, kind: 'user_id', current: 'ES.9906123478550012837' }),
    ]);
  });
});

describe('bad parts of a delivery are recorded and skipped', () => {
  it('a messages change without metadata fails alone; the delivery is processed', async () => {
    await deliver(t, fixture('invalid/messages_missing_metadata.json'));
    expect(webhookErrors(t)).toMatchObject([
      { location: 'entry[0].changes[0].value', code: 'missing_metadata' },
    ]);
    expect(messages(t)).toHaveLength(0);
    expect(inboxStates(t)).toEqual(['processed']);
  });

  it('a message without id is skipped with an error record', async () => {
    await deliver(t, fixture('invalid/message_missing_id.json'));
    expect(webhookErrors(t)).toMatchObject([
      { location: 'entry[0].changes[0].value.messages[0]', code: 'missing_message_id' },
    ]);
    expect(messages(t)).toHaveLength(0);
  });

  it('an entry with no changes is a no-op', async () => {
    await deliver(t, fixture('invalid/entry_empty_changes.json'));
    expect(webhookErrors(t)).toHaveLength(0);
    expect(messages(t)).toHaveLength(0);
    expect(inboxStates(t)).toEqual(['processed']);
  });
});
