// POST/GET /webhooks/whatsapp over HTTP (app.request): signatures over raw bytes, what is stored for
// each outcome, the 413 limit, the handshake, and that bad input never stops the daemon serving.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TEST_VERIFY_TOKEN, type TestApp } from '../helpers/test-app.js';
import { rows } from '../inbox/db-view.js';
import {
  acceptedFixtureNames,
  deliveryOf,
  fixture,
  invalidSignatureCases,
  messagesChange,
  post,
  signed,
  WEBHOOK,
} from './deliveries.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

interface InboxRowView {
  id: string;
  body: string;
  delivery_hash: string;
  state: string;
  last_error: string | null;
}

const inbox = () => rows<InboxRowView>(t, 'select * from inbox order by id');

async function metric(name: string, labels: string): Promise<number> {
  // Every series carries the daemon's instance_id (SPEC §10); the labels this test is about are the rest.
  const text = (await t.deps.metrics.render()).replace(/,?instance_id="[^"]*"/g, '').replace(/\{,/g, '{');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('POST /webhooks/whatsapp with a valid signature', () => {
  it.each(acceptedFixtureNames())('%s is answered 200 after its raw bytes are stored', async (name) => {
    const f = fixture(name);
    const res = await post(t, f);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { status: string; inbox_id: string };
    expect(answer.status).toBe('received');
    const rows = inbox();
    expect(rows).toHaveLength(1);
    const row = rows[0] as InboxRowView;
    expect(row.id).toBe(answer.inbox_id);
    expect(Buffer.from(row.body, 'utf8').equals(f.body)).toBe(true);
    expect(row.delivery_hash).toBe(createHash('sha256').update(f.body).digest('hex'));
    expect(['pending', 'processed']).toContain(row.state);
  });

  it('verifies escaped unicode and \\/ over the raw bytes, not re-serialised JSON', async () => {
    // The body holds \u00e7, \ud83d\ude00 and \/; JSON.stringify(JSON.parse(body)) would differ.
    const d = signed(
      deliveryOf([
        messagesChange(
          [{ wa_id: '4917000000001' }],
          [{ from: '4917000000001', timestamp: 1767600000, body: 'Olá 😀 https://x.example/a?b=ç' }],
        ),
      ]),
    );
    expect(d.body.toString()).toContain('\\u00e7');
    expect(d.body.toString()).toContain('\\ud83d\\ude00');
    expect(d.body.toString()).toContain('https:\\/\\/');
    expect((await post(t, d)).status).toBe(200);
  });

  it('accepts the signature with upper-case hex digits', async () => {
    const f = fixture('msg_text_plain.json');
    const res = await post(t, { body: f.body, signature: `sha256=${f.signature.slice(7).toUpperCase()}` });
    expect(res.status).toBe(200);
  });

  it('counts accepted deliveries', async () => {
    await post(t, fixture('msg_text_plain.json'));
    await post(t, fixture('status_sent.json'));
    expect(await metric('nwa_webhooks_received_total', 'state="pending"')).toBe(2);
  });

  it('stores an identical second delivery again (effects are deduplicated later, per wamid)', async () => {
    const f = fixture('msg_text_plain.json');
    expect((await post(t, f)).status).toBe(200);
    expect((await post(t, f)).status).toBe(200);
    expect(inbox()).toHaveLength(2);
  });
});

describe('POST /webhooks/whatsapp refused with 401, nothing stored', () => {
  it.each(invalidSignatureCases())('$reason ($name)', async ({ name, signature }) => {
    const res = await post(t, { body: fixture(name).body, signature });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect(inbox()).toHaveLength(0);
  });

  it.each([
    ['no header', null, 'missing_signature'],
    ['an empty header', '', 'missing_signature'],
    ['no sha256= prefix', 'a'.repeat(64), 'malformed_signature'],
    ['sha1 instead of sha256', `sha1=${'a'.repeat(40)}`, 'malformed_signature'],
    ['65 hex digits', `sha256=${'a'.repeat(65)}`, 'malformed_signature'],
    ['non-hex digits', `sha256=${'g'.repeat(64)}`, 'malformed_signature'],
  ])('%s', async (_label, signature, reason) => {
    const res = await post(t, { body: fixture('msg_text_plain.json').body, signature });
    expect(res.status).toBe(401);
    expect(inbox()).toHaveLength(0);
    expect(await metric('nwa_webhooks_refused_total', `reason="${reason}"`)).toBe(1);
    expect(t.logs().some((l) => l.event === 'webhook.refused' && l.reason === reason)).toBe(true);
  });

  it('signed with another secret', async () => {
    const res = await post(t, signed(deliveryOf([]), 'another_secret_0123456789'));
    expect(res.status).toBe(401);
    expect(await metric('nwa_webhooks_refused_total', 'reason="bad_signature"')).toBe(1);
    expect(inbox()).toHaveLength(0);
  });

  it('never logs the body or the signature of a refused delivery', async () => {
    const f = fixture('msg_text_plain.json');
    await post(t, { body: f.body, signature: `sha256=${'0'.repeat(64)}` });
    expect(t.logText()).not.toContain('Berlin');
    expect(t.logText()).not.toContain('0'.repeat(64));
  });
});

describe('POST /webhooks/whatsapp signed but not a WABA delivery: 400, stored as rejected', () => {
  it.each([
    ['invalid/not_json.json', 'invalid_json'],
    ['invalid/object_page.json', 'invalid_webhook'],
  ])('%s', async (name, code) => {
    const f = fixture(name);
    const res = await post(t, f);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { inbox_id: string } } };
    expect(body.error.code).toBe(code);
    const rows = inbox();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.state).toBe('rejected');
    expect(rows[0]?.id).toBe(body.error.details.inbox_id);
    expect(Buffer.from(rows[0]?.body ?? '', 'utf8').equals(f.body)).toBe(true);
  });

  it.each([
    ['a JSON array', '[]'],
    ['an object without entry', '{"object":"whatsapp_business_account"}'],
    ['entry that is not an array', '{"object":"whatsapp_business_account","entry":{}}'],
    ['an empty body', ''],
  ])('%s', async (_label, text) => {
    const res = await post(t, signed(text));
    expect(res.status).toBe(400);
    expect(inbox().map((r) => r.state)).toEqual(['rejected']);
  });

  it('a rejected delivery is never processed', async () => {
    await post(t, fixture('invalid/object_page.json'));
    await t.deps.inbox.processor.drain();
    expect(inbox()[0]?.state).toBe('rejected');
  });
});

describe('POST /webhooks/whatsapp over the body limit', () => {
  it('answers 413 with the error envelope and stores nothing', async () => {
    await t.close();
    t = await createTestApp({ config: { server: { webhook_body_limit_bytes: 65536 } } });
    const big = signed(
      deliveryOf([
        messagesChange(
          [{ wa_id: '4917000000001' }],
          [{ from: '4917000000001', timestamp: 1767600000, body: 'x'.repeat(70_000) }],
        ),
      ]),
    );
    const res = await post(t, big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(inbox()).toHaveLength(0);
    expect(await metric('nwa_webhooks_refused_total', 'reason="too_large"')).toBe(1);
    // Just under the limit is fine.
    const fits = signed(
      deliveryOf([
        messagesChange(
          [{ wa_id: '4917000000001' }],
          [{ from: '4917000000001', timestamp: 1767600000, body: 'x'.repeat(60_000) }],
        ),
      ]),
    );
    expect((await post(t, fits)).status).toBe(200);
  });

  it('refuses on the Content-Length header before reading the body', async () => {
    await t.close();
    t = await createTestApp({ config: { server: { webhook_body_limit_bytes: 65536 } } });
    const f = fixture('msg_text_plain.json');
    const res = await t.daemon.app.app.request(WEBHOOK, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': '70000',
        'x-hub-signature-256': f.signature,
      },
      body: f.body,
    });
    expect(res.status).toBe(413);
    expect(inbox()).toHaveLength(0);
  });

  it('defaults to 3 MiB, so a genuine large batch is accepted', async () => {
    const body = 'y'.repeat(2_500_000);
    const d = signed(
      deliveryOf([
        messagesChange(
          [{ wa_id: '4917000000001' }],
          [{ from: '4917000000001', timestamp: 1767600000, body }],
        ),
      ]),
    );
    expect((await post(t, d)).status).toBe(200);
  });
});

describe('the daemon keeps serving after bad input', () => {
  it('answers a valid delivery after garbage, bad signatures and oversize bodies', async () => {
    await post(t, { body: 'garbage', signature: 'nonsense' });
    await post(t, signed('{"object":'));
    await post(t, { body: Buffer.alloc(4 * 1024 * 1024, 0x7b), signature: `sha256=${'0'.repeat(64)}` });
    expect((await post(t, fixture('msg_text_plain.json'))).status).toBe(200);
    expect((await t.request('/healthz', { token: null })).status).toBe(200);
  });
});

describe('GET /webhooks/whatsapp handshake', () => {
  const url = (q: Record<string, string>) => `${WEBHOOK}?${new URLSearchParams(q).toString()}`;

  it('echoes the challenge as text/plain when the verify token matches', async () => {
    const res = await t.request(
      url({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444', 'hub.verify_token': TEST_VERIFY_TOKEN }),
      { token: null },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('1158201444');
  });

  it.each([
    [
      'a wrong token',
      { 'hub.mode': 'subscribe', 'hub.challenge': '1', 'hub.verify_token': 'wrong-token-123' },
    ],
    [
      'a token prefix',
      { 'hub.mode': 'subscribe', 'hub.challenge': '1', 'hub.verify_token': TEST_VERIFY_TOKEN.slice(0, 10) },
    ],
    [
      'a wrong mode',
      { 'hub.mode': 'unsubscribe', 'hub.challenge': '1', 'hub.verify_token': TEST_VERIFY_TOKEN },
    ],
    ['no challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': TEST_VERIFY_TOKEN }],
    ['no parameters', {}],
  ])('refuses %s with 403', async (_label, q) => {
    const res = await t.request(url(q as Record<string, string>), { token: null });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('does not need a bearer token and does not log the verify token', async () => {
    await t.request(
      url({ 'hub.mode': 'subscribe', 'hub.challenge': 'x', 'hub.verify_token': 'nope-nope-nope' }),
      {
        token: null,
      },
    );
    expect(t.logText()).not.toContain(TEST_VERIFY_TOKEN);
  });
});
