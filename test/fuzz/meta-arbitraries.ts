// fast-check generators for webhook bodies: deliveries shaped like Meta's (every message type,
// statuses, other fields, odd timestamps and ids, unknown keys), real fixtures with random subtrees
// replaced or removed, and JSON that has nothing to do with Meta at all.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { messageTypes } from '../../src/config/schema.js';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { FIXTURE_DIR, PNID } from '../webhook/deliveries.js';

const WABA = 'whatsapp_business_account';
const BASE_SECONDS = 1_767_600_000;

/** A few fixed values mixed with random ones, so generated deliveries collide (duplicates, same customer). */
const phone = fc.oneof(
  fc.constantFrom('4917000000001', '5511900000008', '34600000009'),
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 20 }),
  fc.string({ maxLength: 30 }),
);

const wamid = fc.oneof(
  fc.constantFrom(
    'wamid.FUZZ1',
    'wamid.FUZZ2',
    'wamid.HBgNNDkxNzAwMDAwMDAwMRUCABIYFDU4RDgxODA4NTkwMjFFN0U5QUNEAA==',
  ),
  fc.base64String({ minLength: 4, maxLength: 60 }).map((s) => `wamid.${s}`),
  fc.string({ maxLength: 80 }),
);

const seconds = fc.oneof(
  fc.integer({ min: -86_400 * 30, max: 86_400 * 30 }).map((d) => String(BASE_SECONDS + d)),
  fc.integer({ min: -86_400 * 30, max: 86_400 * 30 }).map((d) => BASE_SECONDS + d),
  fc.constantFrom(
    '0',
    '999999999999',
    '1e9',
    '',
    ' 1767600000',
    '-1',
    '1767600000.5',
    1767600000.5,
    -5,
    null,
  ),
  fc.string({ maxLength: 14 }),
);

const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom('STOP', '  stop ', 'START', 'I want a refund, get me a human', 'price?', '', '\u0000'),
  fc.string({ maxLength: 5000 }),
);

const loose = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

/** The type-specific object of a message: a plausible one, or anything at all. */
function typePayload(type: string) {
  const media = fc.record(
    { id: fc.string(), mime_type: fc.string(), sha256: fc.string(), caption: text, voice: fc.boolean() },
    { requiredKeys: [] },
  );
  const plausible: Record<string, fc.Arbitrary<unknown>> = {
    text: fc.record({ body: text }, { requiredKeys: [] }),
    image: media,
    audio: media,
    video: media,
    document: fc.record({ id: fc.string(), filename: fc.string(), caption: text }, { requiredKeys: [] }),
    sticker: fc.record({ id: fc.string(), animated: fc.boolean() }, { requiredKeys: [] }),
    location: fc.record(
      {
        latitude: fc.oneof(fc.double(), fc.string()),
        longitude: fc.double({ noNaN: true }),
        name: fc.string(),
        address: fc.string(),
      },
      { requiredKeys: [] },
    ),
    contacts: fc.array(loose, { maxLength: 3 }),
    interactive: fc.record(
      {
        type: fc.constantFrom('button_reply', 'list_reply', 'nfm_reply', 'other'),
        button_reply: fc.record({ id: fc.string(), title: text }, { requiredKeys: [] }),
        list_reply: fc.record(
          { id: fc.string(), title: text, description: fc.string() },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    button: fc.record({ payload: fc.string(), text: text }, { requiredKeys: [] }),
    reaction: fc.record(
      { message_id: wamid, emoji: fc.oneof(fc.constant(''), fc.string()) },
      { requiredKeys: [] },
    ),
    order: fc.record(
      {
        catalog_id: fc.string(),
        product_items: fc.array(
          fc.record(
            {
              product_retailer_id: fc.string(),
              quantity: fc.integer(),
              item_price: fc.double(),
              currency: fc.string(),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: [] },
    ),
    system: fc.record(
      {
        type: fc.constantFrom(
          'user_changed_number',
          'user_changed_user_id',
          'customer_identity_changed',
          'x',
        ),
        body: fc.string(),
        wa_id: phone,
        user_id: fc.string(),
        previous_user_id: fc.string(),
      },
      { requiredKeys: [] },
    ),
    unsupported: fc.record({ type: fc.string() }, { requiredKeys: [] }),
  };
  return fc.oneof(
    { weight: 4, arbitrary: plausible[type] ?? loose },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
}

const messageType = fc.oneof(fc.constantFrom(...messageTypes), fc.string({ maxLength: 12 }));

const message = messageType.chain((type) =>
  fc
    .record(
      {
        from: phone,
        from_user_id: fc.oneof(fc.constant('US.fuzz1'), fc.string({ maxLength: 40 })),
        id: wamid,
        timestamp: seconds,
        type: fc.oneof({ weight: 5, arbitrary: fc.constant(type) }, { weight: 1, arbitrary: fc.jsonValue() }),
        [type]: typePayload(type),
        context: fc.record({ from: phone, id: wamid, forwarded: fc.boolean() }, { requiredKeys: [] }),
        referral: fc.record(
          { source_id: fc.string(), source_type: fc.string(), ctwa_clid: fc.string() },
          { requiredKeys: [] },
        ),
        errors: fc.array(fc.record({ code: fc.oneof(fc.integer(), fc.string()), title: fc.string() }), {
          maxLength: 2,
        }),
      },
      { requiredKeys: ['timestamp', 'type'] },
    )
    .chain((m) => loose.map((extra) => ({ ...extra, ...m }))),
);

const status = fc.record(
  {
    id: wamid,
    status: fc.oneof(
      fc.constantFrom('sent', 'delivered', 'read', 'played', 'failed'),
      fc.string({ maxLength: 10 }),
    ),
    timestamp: seconds,
    recipient_id: phone,
    recipient_user_id: fc.string(),
    biz_opaque_callback_data: fc.string(),
    conversation: fc.record({ id: fc.string(), expiration_timestamp: seconds }, { requiredKeys: [] }),
    pricing: fc.record(
      { billable: fc.boolean(), pricing_model: fc.string(), category: fc.string() },
      { requiredKeys: [] },
    ),
    errors: fc.array(
      fc.record(
        { code: fc.oneof(fc.integer(), fc.constantFrom(131026, 131047, 130429)), title: fc.string() },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    contacts: fc.array(loose, { maxLength: 2 }),
  },
  { requiredKeys: ['id', 'status', 'timestamp'] },
);

const contact = fc.record(
  {
    profile: fc.oneof(fc.record({ name: text, username: fc.string() }, { requiredKeys: [] }), fc.jsonValue()),
    wa_id: phone,
    user_id: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: [] },
);

const messagesValue = fc.record(
  {
    messaging_product: fc.constantFrom('whatsapp', 'other'),
    metadata: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          display_phone_number: fc.string(),
          phone_number_id: fc.constantFrom(PNID, '999', ''),
        }),
      },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    contacts: fc.array(
      fc.oneof({ weight: 5, arbitrary: contact }, { weight: 1, arbitrary: fc.jsonValue() }),
      { maxLength: 3 },
    ),
    messages: fc.array(
      fc.oneof({ weight: 8, arbitrary: message }, { weight: 1, arbitrary: fc.jsonValue() }),
      { maxLength: 4 },
    ),
    statuses: fc.array(fc.oneof({ weight: 8, arbitrary: status }, { weight: 1, arbitrary: fc.jsonValue() }), {
      maxLength: 4,
    }),
    errors: fc.array(loose, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const templateStatus = fc.record(
  {
    event: fc.oneof(fc.constantFrom('APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'), fc.string()),
    message_template_id: fc.oneof(fc.integer(), fc.string()),
    message_template_name: fc.oneof(fc.constantFrom('welcome', 'follow_up'), fc.string()),
    message_template_language: fc.constantFrom('en_US', 'de', ''),
    reason: fc.oneof(fc.constant(null), fc.string()),
  },
  { requiredKeys: [] },
);

const change = fc.oneof(
  { weight: 6, arbitrary: fc.record({ field: fc.constant('messages'), value: messagesValue }) },
  {
    weight: 2,
    arbitrary: fc.record({ field: fc.constant('message_template_status_update'), value: templateStatus }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      field: fc.oneof(
        fc.constantFrom('user_preferences', 'account_update', 'phone_number_quality_update', 'messages'),
        fc.string(),
      ),
      value: fc.jsonValue({ maxDepth: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

const entry = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        id: fc.string(),
        time: fc.oneof(fc.integer(), fc.double()),
        changes: fc.array(change, { maxLength: 3 }),
      },
      { requiredKeys: ['changes'] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Objects Meta could plausibly send, and many it never would, all with object = WABA. */
export const metaShapedDelivery = fc.record({
  object: fc.constant(WABA),
  entry: fc.array(entry, { maxLength: 3 }),
});

function loadFixtures(): unknown[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(FIXTURE_DIR, f), 'utf8')) as unknown);
}

type Mutation = { at: number; kind: 'replace' | 'delete' | 'null' | 'duplicate'; value: unknown };

/** Every container path of a JSON value (objects and arrays), root first. */
function paths(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...at, i], out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  }
  return out;
}

function mutate(doc: unknown, mutations: Mutation[]): unknown {
  const copy = structuredClone(doc);
  for (const m of mutations) {
    const all = paths(copy).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const target = all[m.at % all.length] as (string | number)[];
    const parentPath = target.slice(0, -1);
    const key = target.at(-1) as string | number;
    let parent: unknown = copy;
    for (const k of parentPath) parent = (parent as Record<string | number, unknown>)[k];
    const container = parent as Record<string | number, unknown>;
    if (m.kind === 'replace') container[key] = m.value;
    else if (m.kind === 'null') container[key] = null;
    else if (m.kind === 'delete') {
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
    } else if (Array.isArray(container)) container.push(structuredClone(container[Number(key)]));
    else container[`${key}_copy`] = structuredClone(container[key]);
  }
  return copy;
}

const FIXTURES = loadFixtures();

/** A real fixture with one to four random subtrees replaced, nulled, removed or duplicated. */
export const mutatedFixture = fc
  .tuple(
    fc.nat(FIXTURES.length - 1),
    fc.array(
      fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('replace', 'delete', 'null', 'duplicate') as fc.Arbitrary<Mutation['kind']>,
        value: fc.jsonValue({ maxDepth: 3 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([i, mutations]) => mutate(FIXTURES[i], mutations));

/** JSON not shaped like a delivery at all: Meta never sends it, but a signed one must still be handled. */
export const unrelatedJson = fc.oneof(
  fc.jsonValue(),
  fc.record({ object: fc.oneof(fc.constant('page'), fc.string(), fc.jsonValue()), entry: fc.jsonValue() }),
  fc.record({ object: fc.constant(WABA), entry: fc.jsonValue() }),
);

/** Body bytes: JSON as Meta escapes it, plain JSON.stringify, or bytes that are not JSON. */
export const webhookBody = fc.oneof(
  { weight: 5, arbitrary: metaShapedDelivery.map((v) => toMetaJson(v)) },
  { weight: 2, arbitrary: metaShapedDelivery.map((v) => JSON.stringify(v)) },
  { weight: 4, arbitrary: mutatedFixture.map((v) => toMetaJson(v)) },
  { weight: 2, arbitrary: unrelatedJson.map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 200 }),
      mutatedFixture.chain((v) => {
        const s = toMetaJson(v);
        return fc.nat(s.length).map((n) => s.slice(0, n));
      }),
    ),
  },
);
