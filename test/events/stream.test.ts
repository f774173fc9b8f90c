// The live stream (SPEC §11): SSE messages with the event id and type, resume with Last-Event-ID,
// filters, and a bound on open streams.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { rows } from '../inbox/db-view.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const STREAM = '/api/extensions/native-whatsapp/runtime/events';
const RECOVERY = '/api/extensions/native-whatsapp/management/recovery';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ config: { events: { max_streams: 2 } } });
});
afterEach(async () => {
  await t.close();
});

/** Reads the stream until `until` matches what was read so far (or 5 s pass); then cancels it. */
async function readUntil(res: Response, until: (text: string) => boolean): Promise<string> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + 5000;
  // One read in flight at a time: a read that lost the race to the timeout still gets the next
  // chunk, so it is kept for the next round (a new read() would queue behind it and the chunk be lost).
  let pending: ReturnType<typeof reader.read> | undefined;
  while (!until(text) && Date.now() < deadline) {
    pending ??= reader.read();
    const next = await Promise.race([
      pending,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
    ]);
    if (next === undefined) continue;
    pending = undefined;
    if (next.done) break;
    text += decoder.decode(next.value);
  }
  await reader.cancel();
  return text;
}

const pause = () => t.request(RECOVERY, { body: { action: 'pause_runtime' } });
const resume = () => t.request(RECOVERY, { body: { action: 'resume_runtime' } });

describe('the live stream', () => {
  it('sends new events as SSE messages: id, event type, envelope', async () => {
    const res = await t.request(STREAM, { token: t.tokens.standard });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await pause();
    const text = await readUntil(res, (s) => s.includes('event: runtime.status_changed'));
    const id = rows<{ id: string }>(
      t,
      "select id from domain_events where type = 'runtime.status_changed'",
    )[0]?.id;
    expect(text).toContain(`id: ${id}`);
    expect(text).toContain('"status":"paused"');
  });

  it('resumes after Last-Event-ID with what was missed, and filters by type', async () => {
    await pause();
    await resume();
    const ids = rows<{ id: string }>(
      t,
      "select id from domain_events where type = 'runtime.status_changed' order by seq",
    );
    const res = await t.request(`${STREAM}?types=runtime.status_changed`, {
      headers: { 'last-event-id': ids[0]?.id as string },
    });
    const text = await readUntil(res, (s) => s.includes(`id: ${ids[1]?.id}`));
    expect(text).toContain(`id: ${ids[1]?.id}`);
    expect(text).not.toContain(`id: ${ids[0]?.id}`);
    const bad = await t.request(STREAM, { headers: { 'last-event-id': 'nonsense' } });
    expect(bad.status).toBe(400);
    const unknown = await t.request(`${STREAM}?types=message.exploded`);
    expect(unknown.status).toBe(400);
  });

  it('makes the commit that recorded an event durable before sending it', async () => {
    const res = await t.request(STREAM, { token: t.tokens.standard });
    // Events of a processed delivery come from a commit that is not fsynced by itself; the stream
    // writes the durability barrier (store/transactions.ts makeDurable) before it sends them.
    t.clock.advance(60_000);
    const at = String(t.clock.now());
    const seconds = Math.floor(t.clock.now() / 1000);
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: '4917000000007' }],
            [{ from: '4917000000007', timestamp: seconds, body: 'hi' }],
          ),
        ]),
      ),
    );
    const text = await readUntil(res, (s) => s.includes('event: message.received'));
    expect(text).toContain('event: message.received');
    const barrier = rows<{ value: string }>(t, "select value from settings where key = 'durability.barrier'");
    expect(barrier).toEqual([{ value: at }]);
  });

  it('refuses streams past events.max_streams with 503 and Retry-After', async () => {
    const a = await t.request(STREAM);
    const b = await t.request(STREAM);
    expect([a.status, b.status]).toEqual([200, 200]);
    const c = await t.request(STREAM);
    expect(c.status).toBe(503);
    expect(c.headers.get('retry-after')).toBe('5');
    await a.body?.cancel();
    await b.body?.cancel();
  });
});
