// zod schemas for the Cloud API webhook shapes (SPEC §3, fixtures README). Every object is loose:
// unknown fields are kept, and message types are not a closed union, so a type Meta adds tomorrow
// is stored rather than refused. Only the fields the daemon reads are typed; arrays (messages,
// statuses, contacts) are parsed element by element by the processor so one odd item cannot sink
// its siblings.
import { z } from 'zod';

export const WABA_OBJECT = 'whatsapp_business_account';

/**
 * The largest unix second accepted (12 digits, as the string form): in milliseconds it stays far
 * inside the Date range, so no instant computed from a Meta timestamp can overflow (SPEC §9a). The
 * window around the delivery's own day is checked per item by the processor.
 */
export const MAX_UNIX_SECONDS = 999_999_999_999;

/** Unix seconds as Meta sends them (strings on messages and statuses, integers elsewhere) → ms. */
export const unixSeconds = z
  .union([
    z.string().regex(/^\d{1,12}$/, 'must be unix seconds'),
    z.number().int().nonnegative().max(MAX_UNIX_SECONDS, 'must be unix seconds'),
  ])
  .transform((v) => Number(v) * 1000);

const str = z.string();
const opt = <T extends z.ZodType>(t: T) => t.optional();

export const errorObject = z.looseObject({
  code: z.number().int(),
  title: opt(str),
  message: opt(str),
  error_data: opt(z.looseObject({ details: opt(str) })),
  href: opt(str),
});

export const metadata = z.looseObject({
  display_phone_number: opt(str),
  phone_number_id: z.string().min(1),
});

/** value.contacts[]: the sender (not a shared contact card, which is message.contacts). */
export const senderContact = z.looseObject({
  wa_id: opt(str),
  user_id: opt(str),
  profile: opt(z.looseObject({ name: opt(str), username: opt(str) })),
});

const media = z.looseObject({
  id: opt(str),
  mime_type: opt(str),
  sha256: opt(str),
  url: opt(str),
  caption: opt(str),
  filename: opt(str),
  voice: opt(z.boolean()),
  animated: opt(z.boolean()),
});

export const messageContext = z.looseObject({
  from: opt(str),
  id: opt(str),
  forwarded: opt(z.boolean()),
  frequently_forwarded: opt(z.boolean()),
  referred_product: opt(z.looseObject({ catalog_id: opt(str), product_retailer_id: opt(str) })),
});

export const referral = z.looseObject({
  source_url: opt(str),
  source_id: opt(str),
  source_type: opt(str),
  body: opt(str),
  headline: opt(str),
  media_type: opt(str),
  image_url: opt(str),
  video_url: opt(str),
  thumbnail_url: opt(str),
  ctwa_clid: opt(str),
  welcome_message: opt(z.looseObject({ text: opt(str) })),
});

/** The few fields without which a message cannot be stored or deduplicated. */
export const messageCore = z.looseObject({
  id: opt(z.string().min(1)),
  from: opt(str),
  from_user_id: opt(str),
  timestamp: unixSeconds,
  type: z.string().min(1),
});

export const inboundMessage = messageCore.extend({
  context: opt(messageContext),
  referral: opt(referral),
  errors: opt(z.array(errorObject)),
  text: opt(z.looseObject({ body: str })),
  image: opt(media),
  audio: opt(media),
  video: opt(media),
  document: opt(media),
  sticker: opt(media),
  location: opt(
    z.looseObject({
      latitude: opt(z.number()),
      longitude: opt(z.number()),
      name: opt(str),
      address: opt(str),
      url: opt(str),
    }),
  ),
  contacts: opt(z.array(z.looseObject({}))),
  interactive: opt(
    z.looseObject({
      type: opt(str),
      button_reply: opt(z.looseObject({ id: opt(str), title: opt(str) })),
      list_reply: opt(z.looseObject({ id: opt(str), title: opt(str), description: opt(str) })),
      nfm_reply: opt(z.looseObject({ name: opt(str), body: opt(str), response_json: opt(str) })),
    }),
  ),
  button: opt(z.looseObject({ payload: opt(str), text: opt(str) })),
  reaction: opt(z.looseObject({ message_id: opt(str), emoji: opt(str) })),
  order: opt(
    z.looseObject({
      catalog_id: opt(str),
      text: opt(str),
      product_items: opt(
        z.array(
          z.looseObject({
            product_retailer_id: opt(str),
            quantity: opt(z.number()),
            item_price: opt(z.number()),
            currency: opt(str),
          }),
        ),
      ),
    }),
  ),
  system: opt(
    z.looseObject({
      body: opt(str),
      type: opt(str),
      wa_id: opt(str),
      user_id: opt(str),
      previous_user_id: opt(str),
      identity: opt(str),
      customer: opt(str),
    }),
  ),
  unsupported: opt(z.looseObject({ type: opt(str) })),
  /** Set on a message written in a WhatsApp group (SPEC §3a). */
  group_id: opt(str),
  /** Coexistence: the sender edited an earlier message; `message` is its new content. */
  edit: opt(
    z.looseObject({
      original_message_id: opt(str),
      message: opt(z.looseObject({ type: opt(str) })),
    }),
  ),
  /** Coexistence: the sender revoked (deleted) an earlier message. */
  revoke: opt(z.looseObject({ original_message_id: opt(str) })),
  /** smb_message_echoes: the customer the business wrote to from the WhatsApp Business app. */
  to: opt(str),
  to_user_id: opt(str),
});

/** The keys without which a message cannot be stored; any other key of a wrong type is dropped. */
export const CORE_MESSAGE_KEYS: ReadonlySet<string> = new Set([
  'id',
  'from',
  'from_user_id',
  'timestamp',
  'type',
]);

export const statusObject = z.looseObject({
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: unixSeconds,
  recipient_id: opt(str),
  recipient_user_id: opt(str),
  biz_opaque_callback_data: opt(str),
  conversation: opt(
    z.looseObject({
      id: opt(str),
      expiration_timestamp: opt(unixSeconds),
      origin: opt(z.looseObject({ type: opt(str) })),
    }),
  ),
  pricing: opt(
    z.looseObject({
      billable: opt(z.boolean()),
      pricing_model: opt(str),
      type: opt(str),
      category: opt(str),
    }),
  ),
  errors: opt(z.array(errorObject)),
});

/** The value of a `messages` change; its arrays stay unknown[] and are parsed item by item. */
export const messagesValue = z.looseObject({
  messaging_product: opt(str),
  metadata,
  contacts: opt(z.array(z.unknown())),
  messages: opt(z.array(z.unknown())),
  statuses: opt(z.array(z.unknown())),
  errors: opt(z.array(z.unknown())),
  /** smb_message_echoes: messages the business sent from the WhatsApp Business app. */
  message_echoes: opt(z.array(z.unknown())),
});

/** One entry of the `user_id_update` field: a customer's BSUID changed (previous → current). */
export const userIdUpdate = z.looseObject({
  wa_id: opt(str),
  user_id: z.looseObject({ previous: opt(str), current: z.string().min(1) }),
  timestamp: opt(unixSeconds),
});
export type UserIdUpdate = z.output<typeof userIdUpdate>;

export const templateStatusValue = z.looseObject({
  event: z.string().min(1),
  message_template_id: opt(z.union([z.number(), z.string()]).transform(String)),
  message_template_name: z.string().min(1),
  message_template_language: z.string().min(1),
  message_template_category: opt(str),
  reason: opt(z.string().nullable()),
  rejection_info: opt(z.looseObject({ reason: opt(str), recommendation: opt(str) })),
});

/** message_template_quality_update (SPEC §14): the template's quality score moved. */
export const templateQualityValue = z.looseObject({
  message_template_id: opt(z.union([z.number(), z.string()]).transform(String)),
  message_template_name: z.string().min(1),
  message_template_language: z.string().min(1),
  previous_quality_score: opt(str),
  new_quality_score: z.string().min(1),
});

export const change = z.looseObject({
  field: z.string().min(1),
  value: z.unknown(),
});

export const entry = z.looseObject({
  id: opt(str),
  /** Unix seconds; one outside the range is dropped (the entry's changes still count). */
  time: opt(z.number().int().nonnegative().max(MAX_UNIX_SECONDS)).catch(undefined),
  changes: z.array(z.unknown()),
});

/** What ingress checks before answering 200: a WABA object with an entry array. */
export const delivery = z.looseObject({
  object: z.literal(WABA_OBJECT),
  entry: z.array(z.unknown()),
});

export type InboundMessage = z.output<typeof inboundMessage>;
export type MessageCore = z.output<typeof messageCore>;
export type StatusObject = z.output<typeof statusObject>;
export type SenderContact = z.output<typeof senderContact>;
export type MessagesValue = z.output<typeof messagesValue>;
export type TemplateStatusValue = z.output<typeof templateStatusValue>;
export type TemplateQualityValue = z.output<typeof templateQualityValue>;
