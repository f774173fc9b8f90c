// The commit horizon on PostgreSQL (SPEC §11, §10; src/events/commit-horizon.ts): an event's seq is
// taken while its transaction is open, so transaction A can hold seq n while B commits seq n+1 first.
// Neither the subscriptions' fan-out cursor nor the live stream may move past A's event while A is
// open (they would never deliver it); once A commits both arrive, in seq order. Two connections: A on
// one of its own, B on the app's. (SQLite has one writer: a seq commits in seq order.)
import { afterEach, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/events/record-event.js';
import { openPostgres, type PostgresHandle } from '../../src/store/db.js';
import { withTransaction } from '../../src/store/transactions.js';
import { engines } from '../helpers/engines.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { one, rows } from '../inbox/db-view.js';

const HOOKS = '/api/extensions/native-whatsapp/management/webhooks';
const STREAM = '/api/extensions/native-whatsapp/runtime/events';

let t: TestApp | undefined;
let rx: WebhookReceiver | undefined;
let second: PostgresHandle | undefined;
// Ends transaction A if an assertion failed while it was open (else closing would wait for it).
let releaseOpen: (() => void) | undefined;
afterEach(async () => {
  releaseOpen?.();
  await second?.close();
  await rx?.close();
  await t?.close();
  second = undefined;
  rx = undefined;
  t = undefined;
});

/** Collects what a stream sends, from now until cancelled. */
function collect(res: Response): { text: () => string; cancel: () => Promise<void> } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  void (async () => {
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (next.done) return;
      text += decoder.decode(next.value);
    }
  })();
  return { text: () => text, cancel: () => reader.cancel().catch(() => undefined) };
}

describe.skipIf(!engines.includes('postgres'))('the commit horizon on PostgreSQL', () => {
  it('fan-out and live stream wait for an open transaction holding an earlier seq, then send both in order', async () => {
    const app = await createTestApp({ engine: 'postgres' });
    t = app;
    const receiver = await startWebhookReceiver();
    rx = receiver;
    const created = await app.request(HOOKS, { body: { url: receiver.url, types: ['*'] } });
    expect(created.status).toBe(201);
    const sub = (await json(created)) as { id: string; secret: string };
    receiver.secrets.push(sub.secret);
    const subId = sub.id;
    const stream = collect(await app.request(STREAM));
    second = openPostgres(app.databaseUrl as string);
    const ctx = () => ({ ids: app.deps.ids, now: app.clock.now() });
    // One conversation: its deliveries go out in seq order (SPEC §11), so arrival order is seq order.
    const event = (status: string) =>
      ({
        type: 'runtime.status_changed',
        conversation_id: 'conv_horizon',
        agent_uuid: null,
        data: { status, reasons: [] },
      }) as const;

    for (let round = 0; round < 3; round++) {
      // A: records its event and stays open.
      let releaseA: () => void = () => undefined;
      const aOpen = new Promise<void>((r) => {
        releaseA = r;
      });
      releaseOpen = releaseA;
      let aRecorded: (v: { seq: number; id: string }) => void = () => undefined;
      const aEvent = new Promise<{ seq: number; id: string }>((r) => {
        aRecorded = r;
      });
      const aDone = (second as PostgresHandle).db.transaction().execute(async (trx) => {
        const e = await recordEvent(trx, event(`a${round}`), ctx());
        aRecorded(e);
        await aOpen;
      });
      const a = await aEvent;
      // B: a later seq, committed while A is open.
      const b = await withTransaction(app.deps.db, (trx) => recordEvent(trx, event(`b${round}`), ctx()));
      expect(b.seq).toBeGreaterThan(a.seq);
      expect(rows(app, 'select id from domain_events where id = ?', b.id)).toHaveLength(1);

      // Every pass of the fan-out while A is open stops before A's seq: drain() never finishes.
      await expect(app.deps.events.delivery.drain(1500)).rejects.toThrow(/timed out/);
      const cursor = Number(
        one<{ cursor_seq: number }>(app, 'select cursor_seq from event_subscriptions where id = ?', subId)
          .cursor_seq,
      );
      expect(cursor).toBeLessThan(a.seq);
      expect(rows(app, 'select 1 from event_deliveries where event_seq = ?', b.seq)).toHaveLength(0);
      expect(stream.text()).not.toContain(b.id);

      releaseA();
      await aDone;
      await app.deps.events.delivery.drain();
      const ids = receiver.acknowledged.map((r) => r.envelope.id);
      expect(ids.indexOf(a.id)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(b.id)).toBeGreaterThan(ids.indexOf(a.id));
      const deadline = Date.now() + 5000;
      while (!stream.text().includes(b.id) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const text = stream.text();
      expect(text.indexOf(`id: ${a.id}`)).toBeGreaterThanOrEqual(0);
      expect(text.indexOf(`id: ${b.id}`)).toBeGreaterThan(text.indexOf(`id: ${a.id}`));
    }
    await stream.cancel();
  });
});
