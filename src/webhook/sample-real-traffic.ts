// The `real-traffic` simulate scenario (SPEC §3a): the deliveries real Meta traffic carries beyond the
// textbook ones, so a new user can see how each shows up (GET .../runtime/contacts and
// .../conversations): a reply from the WhatsApp Business app (echo), a reaction on it, an edit, a
// BSUID change announced without a sender, a group message and a 👍 on a campaign send.
import { toMetaJson } from './meta-json.js';

const WABA_ID = '102290129340398';
const DISPLAY_NUMBER = '15550783881';
const PAULA = { wa_id: '5511900000033', name: 'Paula Mendes' };
const INES = { wa_id: '34600000032', name: 'Inés Navarro' };
const OTTO = { wa_id: '4917000000031', name: 'Otto Weber' };
const FRIEDA_OLD = 'DE.5500112233445566778';
const FRIEDA_NEW = 'DE.6600112233445566779';
const GROUP_ID = 'Y2FwaV9ncm91cDo0OTE3MDAwMDAwMDMxOjEyMDM2MzAyNzA5MzQ1NjcxMg';

/** The same shapes as sample-deliveries.ts (SampleOptions → SampleDelivery[]), which lists this scenario. */
export function buildRealTraffic(o: {
  now: number;
  phoneNumberId: string;
  uniqueId: () => string;
}): { label: string; body: string }[] {
  const at = (minutesAgo: number) => String(Math.floor((o.now - minutesAgo * 60_000) / 1000));
  const id = () => `wamid.${o.uniqueId()}`;
  const echoId = id();
  const question = id();
  const meta = { display_phone_number: DISPLAY_NUMBER, phone_number_id: o.phoneNumberId };
  const change = (field: string, value: Record<string, unknown>) =>
    toMetaJson({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: WABA_ID,
          changes: [{ value: { messaging_product: 'whatsapp', metadata: meta, ...value }, field }],
        },
      ],
    });
  const from = (c: { wa_id: string; name: string }, message: Record<string, unknown>) =>
    change('messages', {
      contacts: [{ profile: { name: c.name }, wa_id: c.wa_id }],
      messages: [{ from: c.wa_id, ...message }],
    });
  const frieda = (userId: string, message: Record<string, unknown>) =>
    change('messages', {
      contacts: [{ profile: { name: 'Frieda K.', username: '@frieda.k' }, user_id: userId }],
      messages: [{ from_user_id: userId, ...message }],
    });
  return [
    {
      label: 'Paula asks a question',
      body: from(PAULA, {
        id: question,
        timestamp: at(10),
        type: 'text',
        text: { body: 'Do you deliver on Sundays?' },
      }),
    },
    {
      label: 'the business answers from the WhatsApp Business app (smb_message_echoes: answered, pending)',
      body: change('smb_message_echoes', {
        message_echoes: [
          {
            from: DISPLAY_NUMBER,
            to: PAULA.wa_id,
            id: echoId,
            timestamp: at(9),
            type: 'text',
            text: { body: 'Yes, from 9 to 13h.' },
          },
        ],
      }),
    },
    {
      label: 'Paula reacts ❤️ to the answer (shown on it; not a new turn)',
      body: from(PAULA, {
        id: id(),
        timestamp: at(8),
        type: 'reaction',
        reaction: { message_id: echoId, emoji: '❤️' },
      }),
    },
    {
      label: 'Paula edits her question (the text is replaced, the old one kept in its history)',
      body: from(PAULA, {
        id: id(),
        timestamp: at(7),
        type: 'edit',
        edit: {
          original_message_id: question,
          message: { type: 'text', text: { body: 'Do you deliver on Sundays and holidays?' } },
        },
      }),
    },
    {
      label: 'Frieda (known only by a BSUID) writes',
      body: frieda(FRIEDA_OLD, {
        id: id(),
        timestamp: at(6),
        type: 'text',
        text: { body: 'Is my order on its way?' },
      }),
    },
    {
      label: "Frieda's BSUID changes: a system notice with no sender and no contacts",
      body: change('messages', {
        messages: [
          {
            id: id(),
            timestamp: at(5),
            type: 'system',
            system: {
              body: `User Frieda K. changed from ${FRIEDA_OLD} to ${FRIEDA_NEW}`,
              user_id: FRIEDA_NEW,
              previous_user_id: FRIEDA_OLD,
              type: 'user_changed_user_id',
            },
          },
        ],
      }),
    },
    {
      label: 'Frieda writes from her new BSUID (same contact, same conversation)',
      body: frieda(FRIEDA_NEW, { id: id(), timestamp: at(4), type: 'text', text: { body: 'Any news?' } }),
    },
    {
      label: 'a message in a WhatsApp group (its own conversation, never answered automatically)',
      body: from(OTTO, {
        group_id: GROUP_ID,
        id: id(),
        timestamp: at(3),
        type: 'text',
        text: { body: 'Team, who brings the samples?' },
      }),
    },
    {
      label: 'Inés reacts 👍 to a campaign send (no conversation: listed under her contact)',
      body: from(INES, {
        id: id(),
        timestamp: at(2),
        type: 'reaction',
        reaction: { message_id: id(), emoji: '👍' },
      }),
    },
  ];
}
