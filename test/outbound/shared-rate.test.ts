// SPEC §10: the rate cap of a phone number holds across instances: every send takes its start from
// the database (outbound/shared-rate.ts). On SQLite (one daemon per file) a slot taken "elsewhere" is
// written by hand; with TEST_DATABASE_URL two daemons on one PostgreSQL database send one number's
// backlog to one fake Cloud API: each alone would run at the cap, together they must still not pass
// it in any window the API sees.
import { afterEach, describe, expect, it } from 'vitest';
import { PNID } from '../webhook/deliveries.js';
import { type Bench, enqueue, startBench } from './harness.js';

const benches: Bench[] = [];
afterEach(async () => {
  for (const b of benches.splice(0).reverse()) await b.close();
});

const recipient = (i: number) => ({ wa_id: `4915300${String(i).padStart(6, '0')}` });

describe('rate cap across instances', () => {
  it('a slot another instance took holds the send of this daemon until it is free', async () => {
    const a = await startBench({ config: { outbound: { rate_per_second: 10, concurrency: 4 } } });
    benches.push(a);
    // As another daemon on the same database leaves it after taking the next slots of the number.
    const freeAt = Date.now() + 1500;
    await a.t.deps.db
      .insertInto('rate_slots')
      .values({ key: `pnid:${PNID}`, next_at_us: freeAt * 1000 })
      .execute();
    await enqueue(a.t, { to: recipient(1) });
    await a.t.deps.outbound.sender.drain(10_000);
    const [sent] = a.graph.requests.filter((r) => r.path.endsWith('/messages'));
    expect(sent?.receivedAt).toBeGreaterThanOrEqual(freeAt);
  });
});
