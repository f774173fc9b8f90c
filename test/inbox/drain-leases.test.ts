// The inbox processor's drain() on a database shared by instances (SPEC §10): rows another instance
// holds under a live lease are its work, so drain() neither waits on them nor reports them as no
// progress; once that lease has run out they are this instance's to take over, and drain() does.
import { afterEach, describe, expect, it } from 'vitest';
import { createInboxProcessor } from '../../src/inbox/processor.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { engines } from '../helpers/engines.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { deliveryOf, messagesChange, post, signed } from '../webhook/deliveries.js';
import { rows } from './db-view.js';

const T0 = 1767600000;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe.each(engines)('drain() with another instance holding leases (%s)', (engine) => {
  it("counts only the rows this instance could claim or holds, and takes the others' over once their lease ran out", async () => {
    t = await createTestApp({ engine });
    const app = t;
    await app.deps.inbox.processor.stop(Date.now() + 5000);
    for (const from of ['4917200000001', '4917200000002']) {
      await post(app, signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: T0 }])])));
    }
    const now = app.clock.now();
    // Instance B claimed one of them and is busy with it (its lease runs a minute).
    const [held] = await inboxRepo.claimDue(app.deps.db, 'instance-b', now, now + 60_000, 1);
    expect(held).toBeDefined();
    const a = createInboxProcessor({
      db: app.deps.db,
      owner: 'instance-a',
      clock: app.clock,
      ids: app.deps.ids,
      logger: app.deps.logger,
      metrics: app.deps.metrics,
      config: app.deps.config,
    });
    await a.start();
    try {
      await a.drain();
      const state = () =>
        rows<{ id: string; state: string; lease_owner: string | null }>(
          app,
          'select id, state, lease_owner from inbox order by id',
        );
      expect(state().filter((r) => r.state === 'pending')).toEqual([
        { id: held?.id, state: 'pending', lease_owner: 'instance-b' },
      ]);
      // B died: once its lease has run out the row is A's to take.
      app.clock.advance(61_000);
      await a.drain();
      expect(state().map((r) => r.state)).toEqual(['processed', 'processed']);
    } finally {
      await a.stop(Date.now() + 5000);
    }
  });
});
