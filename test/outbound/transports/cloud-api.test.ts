import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudApiTransport } from '../../../src/outbound/transports/cloud-api.js';
import type { OutboundMessage, SendFailed } from '../../../src/outbound/transports/transport.js';
import { type FakeGraphApi, startFakeGraphApi } from '../../helpers/fake-graph-api.js';

const TOKEN = 'EAAtesttokenABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const text: OutboundMessage = {
  kind: 'message',
  phone_number_id: '106540352242922',
  to: { wa_id: '4917000000001' },
  content: { type: 'text', text: 'Hello' },
};

let api: FakeGraphApi;
beforeAll(async () => {
  api = await startFakeGraphApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.requests.length = 0;
  api.setDefault({ accept: true });
  api.requireToken(null);
});

function transport(timeoutMs = 2000) {
  return createCloudApiTransport({ baseUrl: `${api.url}/`, version: 'v24.0', accessToken: TOKEN, timeoutMs });
}

describe('cloud-api transport', () => {
  it('posts the Graph body to /{version}/{phone_number_id}/messages with the bearer token', async () => {
    api.next({ accept: true, wamid: 'wamid.OK1' });
    const result = await transport().send(text);
    expect(result).toEqual({ outcome: 'accepted', wamid: 'wamid.OK1', messageStatus: 'accepted' });
    expect(api.requests).toHaveLength(1);
    const req = api.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v24.0/106540352242922/messages');
    expect(req.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4917000000001',
      type: 'text',
      text: { body: 'Hello' },
    });
  });

  it('keeps Graph message_status such as held_for_quality_assessment', async () => {
    api.next({ accept: true, wamid: 'wamid.H', messageStatus: 'held_for_quality_assessment' });
    expect(await transport().send(text)).toMatchObject({ messageStatus: 'held_for_quality_assessment' });
  });

  it('marks a message as read and reports no wamid', async () => {
    const result = await transport().send({
      kind: 'mark_as_read',
      phone_number_id: '106540352242922',
      message_id: 'wamid.IN',
    });
    expect(result).toEqual({ outcome: 'accepted', wamid: null, messageStatus: null });
    expect(api.requests[0]!.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN',
    });
  });

  it.each([
    [130429, 'retryable', 400],
    [131056, 'retryable', 400],
    [4, 'retryable', 400],
    [80007, 'retryable', 400],
    [131000, 'retryable', 500],
    [131026, 'permanent', 400],
    [131047, 'permanent', 400],
    [132001, 'permanent', 404],
    [131051, 'permanent', 400],
    [100, 'permanent', 400],
    [190, 'auth', 401],
    [131031, 'auth', 403],
  ] as const)(
    'maps Graph error %i to %s with its code, title and HTTP status',
    async (code, kind, status) => {
      api.next({ error: code, details: `details for ${code}` });
      const result = (await transport().send(text)) as SendFailed;
      expect(result.outcome).toBe('failed');
      expect(result.kind).toBe(kind);
      expect(result.code).toBe(code);
      expect(result.httpStatus).toBe(status);
      expect(result.title.length).toBeGreaterThan(0);
      expect(result.details).toBe(`details for ${code}`);
      expect(result.windowClosed).toBe(code === 131047);
    },
  );

  it('uses Graph message as the title for a code the table does not know', async () => {
    api.next({ error: 987654, httpStatus: 400, message: '(#987654) Something new' });
    const result = (await transport().send(text)) as SendFailed;
    expect(result).toMatchObject({ kind: 'permanent', code: 987654, title: '(#987654) Something new' });
  });

  it('treats a 5xx without a Graph body as retryable', async () => {
    api.next({ raw: { status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' } });
    const result = (await transport().send(text)) as SendFailed;
    expect(result).toMatchObject({ outcome: 'failed', kind: 'retryable', code: null, httpStatus: 502 });
  });

  it('treats a dropped connection as a retryable network error', async () => {
    api.next({ drop: true });
    const result = (await transport().send(text)) as SendFailed;
    expect(result).toMatchObject({ outcome: 'failed', kind: 'retryable', code: null, httpStatus: null });
    expect(result.title).toMatch(/^network error/);
  });

  it('times out a slow answer and reports it as retryable', async () => {
    api.next({ accept: true, delayMs: 1500 });
    // The answer would come 1.5 s later and be accepted: a timeout failure naming 200 ms can only be
    // the transport giving up at its own timeout (how fast is not a unit-test question).
    const result = (await transport(200).send(text)) as SendFailed;
    expect(result).toMatchObject({ outcome: 'failed', kind: 'retryable', code: null, httpStatus: null });
    expect(result.title).toBe('request timed out after 200 ms');
  });

  it('answers a slow call that still fits the timeout normally', async () => {
    api.next({ accept: true, wamid: 'wamid.SLOW', delayMs: 100 });
    expect(await transport(2000).send(text)).toMatchObject({ outcome: 'accepted', wamid: 'wamid.SLOW' });
  });

  it('treats a 2xx without a message id as permanent (a retry could send twice)', async () => {
    api.next({
      raw: { status: 200, body: '{"messaging_product":"whatsapp"}', contentType: 'application/json' },
    });
    expect(await transport().send(text)).toMatchObject({
      outcome: 'failed',
      kind: 'permanent',
      httpStatus: 200,
    });
  });

  it('reports an unreachable API as a retryable network error', async () => {
    const closed = await startFakeGraphApi();
    const url = closed.url;
    await closed.close();
    const t = createCloudApiTransport({
      baseUrl: url,
      version: 'v24.0',
      accessToken: TOKEN,
      timeoutMs: 1000,
    });
    expect(await t.send(text)).toMatchObject({ outcome: 'failed', kind: 'retryable', code: null });
  });

  it('never lets the token into a result, even when Graph echoes it back', async () => {
    api.requireToken('EAAsomeothertokenXXXXXXXXXXXXXXXXXXXXXXXX');
    const result = (await transport().send(text)) as SendFailed;
    expect(result).toMatchObject({ kind: 'auth', code: 190, httpStatus: 401 });
    expect(api.requests[0]!.answered).toMatchObject({ message: expect.stringContaining(TOKEN) });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
    expect(JSON.stringify(result)).not.toContain('EAAtest');

    api.requireToken(null);
    api.next({ error: 100, message: `Invalid parameter near ${TOKEN}`, details: `bad ${TOKEN} here` });
    const echoed = (await transport().send(text)) as SendFailed;
    expect(JSON.stringify(echoed)).not.toContain(TOKEN);
    expect(echoed.details).toBe('bad [redacted] here');
  });

  it('scrubs a token of any shape, not only ones that look like Meta tokens', async () => {
    const plain = 'plain-secret-0123456789';
    const t = createCloudApiTransport({
      baseUrl: api.url,
      version: 'v24.0',
      accessToken: plain,
      timeoutMs: 1000,
    });
    api.next({ error: 190, message: `Malformed access token ${plain}`, details: `token ${plain} rejected` });
    const result = (await t.send(text)) as SendFailed;
    expect(result.details).toBe('token [redacted] rejected');
    expect(JSON.stringify(result)).not.toContain(plain);
  });

  it('shortens long Graph texts', async () => {
    api.next({ error: 100, details: 'x'.repeat(5000) });
    const result = (await transport().send(text)) as SendFailed;
    expect(result.details!.length).toBeLessThanOrEqual(301);
  });
});
