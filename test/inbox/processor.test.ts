// The inbox processor as a service: retries with backoff, dead letters and their replay, a failing
// row that does not hold up the others, rows left pending across a restart, and its metrics.
// Failures are real database failures (a trigger that aborts an insert), not mocks.
import { afterEach, describe, expect, it } from 'vitest';
import { createInboxProcessor } from '../../src/inbox/processor.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { waitFor } from '../helpers/daemon-process.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliver, deliveryOf, fixture, messagesChange, post, signed } from '../webhook/deliveries.js';
import { conversations, failInsertOfText, messages, one, rows } from './db-view.js';

const apps: TestApp[] = [];
async function app(
  config: Record<string, unknown> = {},
  start?: string,
  databaseOf?: TestApp,
): Promise<TestApp> {
  // A reopened database needs a later clock: ids are sequential per app.
  const t = await createTestApp({
    config,
    ...(start ? { start } : {}),
    ...(databaseOf ? { databaseOf } : {}),
  });
  apps.push(t);
  return t;
}
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close().catch(() => undefined);
});

const T0 = 1767600000;

const text = (from: string, body: string, ts = T0) =>
  signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: ts, body }])]));

const failOn = failInsertOfText;

type InboxView = {
  id: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
};
const inboxRows = (t: TestApp) => rows<InboxView>(t, 'select * from inbox order by id');

describe('a delivery whose processing fails', () => {
  it('is retried with exponential backoff, then parked as dead', async () => {
    const t = await app({ inbox: { max_attempts: 4, retry_base_delay: '2s' } });
    failOn(t, 'boom');
    await deliver(t, text('4917000000201', 'boom'));
    const delays: number[] = [];
    for (let attempt = 1; attempt < 4; attempt++) {
      const row = inboxRows(t)[0] as InboxView;
      expect(row).toMatchObject({ state: 'pending', attempts: attempt });
      expect(row.last_error).toContain('injected fault on boom');
      delays.push(row.next_attempt_at - t.clock.now());
      // Not due yet: nothing happens.
      t.clock.advance(row.next_attempt_at - t.clock.now() - 1);
      await t.deps.inbox.processor.drain();
      expect(inboxRows(t)[0]?.attempts).toBe(attempt);
      t.clock.advance(1);
      await t.deps.inbox.processor.drain();
    }
    expect(delays).toEqual([2000, 4000, 8000]);
    expect(inboxRows(t)[0]).toMatchObject({ state: 'dead', attempts: 4 });
    expect(t.logs().some((l) => l.event === 'inbox.dead')).toBe(true);
  });

  it('leaves no partial effects behind (its savepoint is rolled back)', async () => {
    const t = await app();
    failOn(t, 'boom');
    await deliver(t, text('4917000000202', 'boom'));
    expect(rows(t, 'select * from contacts')).toHaveLength(0);
    expect(conversations(t)).toHaveLength(0);
  });

  it('does not hold up the deliveries after it', async () => {
    const t = await app();
    failOn(t, 'boom');
    await post(t, text('4917000000203', 'before', T0 - 1));
    await post(t, text('4917000000204', 'boom'));
    await post(t, text('4917000000205', 'after', T0 + 1));
    await t.deps.inbox.processor.drain();
    expect(messages(t).map((m) => m.text)).toEqual(['before', 'after']);
    expect(inboxRows(t).map((r) => r.state)).toEqual(['processed', 'pending', 'processed']);
  });

  it('in a slice with others: its effects are undone, theirs are kept once', async () => {
    const t = await app();
    failOn(t, 'boom');
    // One slice: the first run has no savepoints, the failure rolls it back and it runs again with them.
    await post(t, text('4917000000213', 'before', T0 - 1));
    await post(t, text('4917000000214', 'boom'));
    await post(t, text('4917000000215', 'after', T0 + 1));
    await t.deps.inbox.processor.drain();
    expect(
      rows<{ wa_id: string }>(t, 'select wa_id from contacts order by wa_id').map((c) => c.wa_id),
    ).toEqual(['4917000000213', '4917000000215']);
    expect(conversations(t)).toHaveLength(2);
    const received = rows<{ n: number }>(
      t,
      "select count(*) as n from domain_events where type = 'message.received'",
    )[0];
    expect(Number(received?.n)).toBe(2);
    expect(rows(t, 'select * from conversation_transitions')).toHaveLength(2);
    expect(inboxRows(t).map((r) => r.state)).toEqual(['processed', 'pending', 'processed']);
  });

  it('is processed once after the fault is gone and dead letters are replayed', async () => {
    const t = await app({ inbox: { max_attempts: 1 } });
    const heal = failOn(t, 'boom');
    await deliver(t, text('4917000000206', 'boom'));
    expect(inboxRows(t)[0]?.state).toBe('dead');
    heal();
    expect(await inboxRepo.replayDeadLetters(t.deps.db, t.clock.now())).toBe(1);
    await t.deps.inbox.processor.drain();
    expect(inboxRows(t)[0]).toMatchObject({ state: 'processed', attempts: 0, last_error: null });
    expect(messages(t).map((m) => m.text)).toEqual(['boom']);
    expect(await inboxRepo.replayDeadLetters(t.deps.db, t.clock.now())).toBe(0);
  });

  it('whose body can never parse is parked at once, without retries', async () => {
    const t = await app();
    await inboxRepo.insertMany(t.deps.db, [
      {
        id: t.deps.ids.next(),
        received_at: t.clock.now(),
        body: '{"object":"whatsapp_business_account","entry":[',
        delivery_hash: 'x',
        state: 'pending',
        attempts: 0,
        next_attempt_at: t.clock.now(),
        last_error: null,
        processed_at: null,
      },
    ]);
    await t.deps.inbox.processor.drain();
    expect(inboxRows(t)[0]).toMatchObject({ state: 'dead', attempts: 1 });
  });
});

describe('restarts', () => {
  it('deliveries stored while the processor was stopped are processed on the next start', async () => {
    const first = await app();
    await first.deps.inbox.processor.stop(Date.now() + 1000);
    for (let i = 0; i < 20; i++)
      expect((await post(first, text(`49170000003${String(i).padStart(2, '0')}`, `m${i}`))).status).toBe(200);
    expect(inboxRows(first).every((r) => r.state === 'pending')).toBe(true);
    await first.daemon.stop();

    const second = await app({}, '2026-01-05T09:00:00Z', first);
    // No drain(): the service picks the rows up by itself when it starts.
    await waitFor(
      () => one<{ n: number }>(second, "select count(*) n from inbox where state = 'pending'").n === 0,
    );
    expect(messages(second)).toHaveLength(20);
  });
});

describe('batching', () => {
  it('processes a backlog larger than one batch, every row once', async () => {
    const t = await app({ inbox: { batch_size: 7 } });
    await t.deps.inbox.processor.stop(Date.now() + 1000);
    for (let i = 0; i < 40; i++)
      await post(t, text(`49170000004${String(i).padStart(2, '0')}`, `b${i}`, T0 + i));
    // The first daemon stops before the second opens the file, as a restart does: two live daemons on
    // one file in one process would wait on each other's locks in SQLite's synchronous busy wait.
    await t.daemon.stop();
    const fresh = await app({ inbox: { batch_size: 7 } }, '2026-01-05T09:00:00Z', t);
    await fresh.deps.inbox.processor.drain();
    expect(messages(fresh).map((m) => m.text)).toEqual(Array.from({ length: 40 }, (_, i) => `b${i}`));
  });
});

describe('one wake', () => {
  // With its timer an hour away, only the run a wake started can process these rows: it must go on
  // while a claim came back full or a slice left claimed rows unreached, and may stop only when a
  // claim got fewer rows than it asked for and the slice reached them all.
  const untimed = (t: TestApp, sliceMs: number) =>
    createInboxProcessor(
      {
        db: t.deps.db,
        owner: 'untimed',
        clock: t.clock,
        ids: t.deps.ids,
        logger: t.deps.logger,
        metrics: t.deps.metrics,
        config: t.deps.config,
      },
      { pollMs: 3_600_000, sliceMs },
    );
  const pendingRows = (t: TestApp) =>
    one<{ n: number }>(t, "select count(*) n from inbox where state = 'pending'").n;

  it.each([
    ['claims come back full (40 rows, 16 a claim)', 1_000],
    ['each slice reaches one row of its claim', 0],
  ])('processes a backlog whole when %s', async (_, sliceMs) => {
    const t = await app();
    await t.deps.inbox.processor.stop(Date.now() + 1000);
    for (let i = 0; i < 40; i++)
      await post(t, text(`49170000007${String(i).padStart(2, '0')}`, `w${i}`, T0 + i));
    const p = untimed(t, sliceMs);
    await p.start();
    try {
      await waitFor(() => pendingRows(t) === 0, 5_000);
    } finally {
      await p.stop(Date.now() + 1000);
    }
    expect(messages(t).map((m) => m.text)).toEqual(Array.from({ length: 40 }, (_, i) => `w${i}`));
    expect(rows(t, 'select id from inbox where lease_owner is not null')).toEqual([]);
  });
});

describe('deferring to ingress', () => {
  const standalone = (t: TestApp, ingressIdle: () => Promise<void>, maxDeferMs: number) =>
    createInboxProcessor(
      {
        db: t.deps.db,
        owner: 'standalone',
        clock: t.clock,
        ids: t.deps.ids,
        logger: t.deps.logger,
        metrics: t.deps.metrics,
        config: t.deps.config,
        ingress: { idle: ingressIdle, arrivedSince: () => true },
      },
      { maxDeferMs },
    );

  it('runs a slice as soon as ingress is quiet', async () => {
    const t = await app();
    await t.deps.inbox.processor.stop(Date.now() + 1000);
    await post(t, text('4917000000601', 'quiet'));
    let asked = 0;
    const p = standalone(
      t,
      () => {
        asked += 1;
        return Promise.resolve();
      },
      60_000,
    );
    await p.drain();
    expect(asked).toBeGreaterThan(0);
    expect(messages(t).map((m) => m.text)).toEqual(['quiet']);
  });

  it('still makes progress when ingress never goes quiet (one slice per maxDeferMs)', async () => {
    const t = await app();
    await t.deps.inbox.processor.stop(Date.now() + 1000);
    await post(t, text('4917000000602', 'busy'));
    const p = standalone(t, () => new Promise<void>(() => undefined), 20);
    await p.drain();
    expect(messages(t).map((m) => m.text)).toEqual(['busy']);
  });
});

describe('metrics', () => {
  it('counts outcomes and exposes the backlog and dead letters', async () => {
    const t = await app({ inbox: { max_attempts: 1 } });
    failOn(t, 'boom');
    await deliver(t, fixture('msg_text_plain.json'), text('4917000000501', 'boom'));
    // Every series carries the daemon's instance_id (SPEC §10); the counts are what this test is about.
    const text_ = (await t.deps.metrics.render()).replace(/,?instance_id="[^"]*"/g, '').replace(/\{\}/g, '');
    expect(text_).toContain('nwa_inbox_processed_total{outcome="processed"} 1');
    expect(text_).toContain('nwa_inbox_processed_total{outcome="dead"} 1');
    expect(text_).toContain('nwa_inbox_backlog 0');
    expect(text_).toContain('nwa_inbox_dead_letters 1');
  });
});
