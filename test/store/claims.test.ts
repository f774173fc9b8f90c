// Every queue's claim (SPEC §10, issue 18; one helper, store/locking.ts claimDue) raced by two workers on two connections to one database:
// SQLite (two handles on one file) and PostgreSQL when TEST_DATABASE_URL is set. Each round seeds due
// rows, both workers claim small batches until nothing is left, and no row may be won by both; every
// row is won by one. A lease that ran out is taken over; a live one never is.
// Event deliveries also settle here: only the holder of a lease settles its row.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationLogRepo } from '../../src/store/conversation-log-repo.js';
import { type Db, openDatabase, openPostgres } from '../../src/store/db.js';
import { followUpsRepo } from '../../src/store/follow-ups-repo.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { mediaRepo } from '../../src/store/media-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { outboxRepo } from '../../src/store/outbox-repo.js';
import { responderJobsRepo } from '../../src/store/responder-jobs-repo.js';
import { subscriptionsRepo } from '../../src/store/subscriptions-repo.js';
import { engines, openTestDatabase, type TestEngine } from '../helpers/engines.js';
import { bareOutboxRow } from '../helpers/outbox-rows.js';

const T0 = Date.parse('2026-01-05T08:00:00Z');
const LEASE = 60_000;
const ROUNDS = 25;
const PER_ROUND = 30;

interface Pair {
  a: Db;
  b: Db;
  close(): Promise<void>;
}

/** Two connections to one fresh, migrated database. */
async function twoConnections(engine: TestEngine): Promise<Pair> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'nwa-claims-'));
    const file = path.join(dir, 'claims.db');
    const first = openDatabase(file);
    await migrateToLatest(first.db);
    const second = openDatabase(file);
    return {
      a: first.db,
      b: second.db,
      async close() {
        await second.close();
        await first.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const t = await openTestDatabase('postgres');
  const second = openPostgres(t.url as string);
  return {
    a: t.handle.db,
    b: second.db,
    async close() {
      await second.close();
      await t.close();
    },
  };
}

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

type Claim = (db: Db, owner: string, now: number) => Promise<string[]>;

/** Two workers claim batches of 3 until nothing is left; returns what each won. */
async function race(p: Pair, claim: Claim, now: number): Promise<[string[], string[]]> {
  const worker = async (db: Db, owner: string) => {
    const won: string[] = [];
    for (;;) {
      const ids = await claim(db, owner, now);
      if (ids.length === 0) return won;
      won.push(...ids);
    }
  };
  return Promise.all([worker(p.a, 'worker-a'), worker(p.b, 'worker-b')]);
}

async function expectOneWinnerEach(p: Pair, seed: (round: number) => Promise<string[]>, claim: Claim) {
  for (let round = 0; round < ROUNDS; round++) {
    const ids = await seed(round);
    const [a, b] = await race(p, claim, T0);
    const both = a.filter((id) => b.includes(id));
    expect(both, `round ${round}: rows won by both workers`).toEqual([]);
    expect([...a, ...b].sort(), `round ${round}: every row won once`).toEqual([...ids].sort());
  }
}

/** A contact and a conversation for the queues whose rows belong to one. */
async function conversation(db: Db): Promise<string> {
  await db
    .insertInto('contacts')
    .values({
      id: 'k1',
      wa_id: '4917000000001',
      user_id: null,
      username: null,
      profile_name: null,
      opted_out_at: null,
      opted_in_at: null,
      created_at: T0,
      updated_at: T0,
    })
    .execute();
  await db
    .insertInto('conversations')
    .values({
      id: 'c1',
      phone_number_id: 'pn1',
      contact_id: 'k1',
      agent_id: null,
      escalation_reason: null,
      closed_reason: null,
      campaign_id: null,
      intent: null,
      sentiment: null,
      opened_at: T0,
      updated_at: T0,
      closed_at: null,
      last_message_at: T0,
      last_customer_message_at: T0,
      last_business_message_at: null,
      window_expires_at: null,
    })
    .execute();
  return 'c1';
}

const pad = (round: number, i: number) => `${String(round).padStart(3, '0')}${String(i).padStart(3, '0')}`;

interface Queue {
  seed: (db: Db, round: number) => Promise<string[]>;
  claim: Claim;
  /** The queue's takeover of leases that ran out, when it is a statement of its own (the tick's). */
  takeOver?: (db: Db, now: number) => Promise<unknown>;
}

const claims: Record<string, Queue> = {
  inbox: {
    async seed(db, round) {
      const rows = Array.from({ length: PER_ROUND }, (_, i) => ({
        id: `in${pad(round, i)}`,
        received_at: T0,
        body: '{}',
        delivery_hash: `h${pad(round, i)}`,
        state: 'pending' as const,
        attempts: 0,
        next_attempt_at: T0,
        last_error: null,
        processed_at: null,
      }));
      await inboxRepo.insertMany(db, rows);
      return rows.map((r) => r.id);
    },
    claim: async (db, owner, now) =>
      (await inboxRepo.claimDue(db, owner, now, now + LEASE, 3)).map((r) => r.id),
  },
  outbox: {
    async seed(db, round) {
      const ids = Array.from({ length: PER_ROUND }, (_, i) => `ob${pad(round, i)}`);
      for (const id of ids) {
        await outboxRepo.insert(db, bareOutboxRow(id, T0));
      }
      return ids;
    },
    claim: async (db, owner, now) =>
      (await outboxRepo.claimForQueue(db, owner, now, now + LEASE, 3)).map((r) => r.id),
  },
  'follow-ups': {
    async seed(db, round) {
      if (round === 0) await conversation(db);
      const ids = Array.from({ length: PER_ROUND }, (_, i) => `fu${pad(round, i)}`);
      for (const [i, id] of ids.entries()) {
        await followUpsRepo.insertIfNew(db, {
          id,
          conversation_id: 'c1',
          rule_id: `r${i}`,
          silence_from: round,
          sequence: i,
          due_at: T0,
          state: 'scheduled',
          lease_until: null,
          outbox_id: null,
          sent_wamid: null,
          skip_reason: null,
          created_at: T0,
          updated_at: T0,
        });
      }
      return ids;
    },
    claim: (db, owner, now) => followUpsRepo.claimDue(db, owner, now, now + LEASE, 3),
    takeOver: (db, now) => followUpsRepo.releaseExpiredClaims(db, now),
  },
  'responder jobs': {
    async seed(db, round) {
      if (round === 0) await conversation(db);
      const ids = Array.from({ length: PER_ROUND }, (_, i) => `rj${pad(round, i)}`);
      for (const id of ids) {
        await conversationLogRepo.addResponderJob(db, {
          id,
          conversation_id: 'c1',
          mode: 'reply',
          state: 'pending',
          attempts: 0,
          outcome: null,
          created_at: T0,
          updated_at: T0,
        });
      }
      return ids;
    },
    claim: async (db, owner, now) =>
      (await responderJobsRepo.claimDue(db, owner, now, now + LEASE, 3)).map((r) => r.id),
  },
  media: {
    async seed(db, round) {
      const ids = Array.from({ length: PER_ROUND }, (_, i) => `md${pad(round, i)}`);
      for (const id of ids) {
        await mediaRepo.insertIfNew(db, {
          id,
          media_id: `m-${id}`,
          direction: 'inbound',
          message_wamid: null,
          conversation_id: null,
          phone_number_id: 'pn1',
          media_type: 'image',
          mime_type: null,
          filename: null,
          declared_sha256: null,
          state: 'pending',
          error: null,
          reason: null,
          attempts: 0,
          next_attempt_at: T0,
          lease_owner: null,
          lease_until: null,
          content_sha256: null,
          size_bytes: null,
          created_at: T0,
          updated_at: T0,
          stored_at: null,
        });
      }
      return ids;
    },
    claim: async (db, owner, now) =>
      (await mediaRepo.claimDue(db, owner, now, now + LEASE, 3)).map((r) => r.id),
  },
  // Each row its own conversation or none: none waits for another (the order test is below).
  'event deliveries': {
    seed: (db, round) =>
      seedDeliveries(
        db,
        round,
        Array.from({ length: PER_ROUND }, (_, i) => (i % 2 === 0 ? '' : `conv${pad(round, i)}`)),
      ),
    claim: async (db, owner, now) =>
      (await subscriptionsRepo.claim(db, 's1', owner, now, now + LEASE, 3)).map((r) => r.id),
  },
};

/** Event deliveries of subscription s1: `keys[i]` is the i-th row's conversation ('' for none). */
async function seedDeliveries(db: Db, round: number, keys: string[]): Promise<string[]> {
  const rows = keys.map((order_key, i) => ({
    id: `ed${pad(round, i)}`,
    subscription_id: 's1',
    event_seq: round * 1000 + i,
    event_id: `ev${pad(round, i)}`,
    order_key,
    state: 'pending' as const,
    attempts: 0,
    next_attempt_at: T0,
    lease_owner: null,
    lease_until: null,
    last_status: null,
    last_error: null,
    created_at: T0,
    updated_at: T0,
    delivered_at: null,
  }));
  await db.insertInto('event_deliveries').values(rows).execute();
  return rows.map((r) => r.id);
}

describe.each(engines)('claims on %s', (engine) => {
  for (const [queue, { seed, claim, takeOver }] of Object.entries(claims)) {
    it(`${queue}: two workers on two connections never both win a row, and every row is won`, async () => {
      pair = await twoConnections(engine);
      const p = pair;
      await expectOneWinnerEach(p, (round) => seed(p.a, round), claim);
    });

    it(`${queue}: a live lease is never taken over; one that ran out is`, async () => {
      pair = await twoConnections(engine);
      const ids = await seed(pair.a, 0);
      const first = await claim(pair.a, 'worker-a', T0);
      expect(first).toHaveLength(3);
      // Still held at the last millisecond of its lease: worker b gets the other rows only.
      const meanwhile: string[] = [];
      // Bounded: a claim that took live leases would take the same rows again forever.
      for (
        let got = await claim(pair.b, 'worker-b', T0 + LEASE - 1), i = 0;
        got.length > 0 && i < ids.length;
        i++
      ) {
        meanwhile.push(...got);
        got = await claim(pair.b, 'worker-b', T0 + LEASE - 1);
      }
      expect(meanwhile.filter((id) => first.includes(id))).toEqual([]);
      expect(meanwhile).toHaveLength(ids.length - 3);
      // Once worker a's lease ran out (it crashed: nothing renewed it), its rows are worker b's.
      await takeOver?.(pair.b, T0 + LEASE - 1);
      expect(await claim(pair.b, 'worker-b', T0 + LEASE - 1)).toEqual([]);
      await takeOver?.(pair.b, T0 + LEASE);
      const takenOver = await claim(pair.b, 'worker-b', T0 + LEASE);
      expect(takenOver.sort()).toEqual([...first].sort());
    });
  }
});

/** A delivery's first attempt, acknowledged. */
const DELIVERED = {
  state: 'delivered' as const,
  attempts: 1,
  next_attempt_at: T0,
  last_status: 200,
  last_error: null,
  delivered_at: T0,
  updated_at: T0,
};

describe.each(engines)('event delivery claims on %s keep per-conversation order', (engine) => {
  it('two workers never hold two deliveries of one conversation at once, and take them in event order', async () => {
    pair = await twoConnections(engine);
    const p = pair;
    // 6 conversations x 5 events, interleaved, plus events of no conversation.
    const keys = Array.from({ length: 36 }, (_, i) => (i % 6 === 5 ? '' : `conv${i % 6}`));
    const ids = await seedDeliveries(p.a, 0, keys);
    const keyOf = new Map(ids.map((id, i) => [id, keys[i]]));
    const taken: string[] = [];
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const worker = async (db: Db, owner: string) => {
      for (;;) {
        const rows = await subscriptionsRepo.claim(db, 's1', owner, T0, T0 + LEASE, 4);
        if (rows.length === 0) {
          // Another worker may still hold the row this one's next waits on.
          if (taken.length === ids.length) return;
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        for (const r of rows) {
          const key = keyOf.get(r.id) as string;
          if (key !== '' && inFlight.has(key)) overlaps.push(r.id);
          if (key !== '') inFlight.add(key);
          taken.push(r.id);
        }
        await new Promise((r) => setTimeout(r, 0));
        for (const r of rows) {
          inFlight.delete(keyOf.get(r.id) as string);
          const settled = await subscriptionsRepo.settle(db, r.id, owner, DELIVERED);
          expect(settled).toBe(true);
        }
      }
    };
    await Promise.all([worker(p.a, 'worker-a'), worker(p.b, 'worker-b')]);
    expect(overlaps, 'deliveries of a conversation held while an earlier one was').toEqual([]);
    expect([...taken].sort()).toEqual([...ids].sort());
    for (const key of new Set(keys.filter((k) => k !== ''))) {
      const mine = taken.filter((id) => keyOf.get(id) === key);
      expect(mine, `${key} in event order`).toEqual([...mine].sort());
    }
  });
});

describe.each(engines)('event delivery settles on %s', (engine) => {
  const outcome = DELIVERED;
  const row = (db: Db, id: string) =>
    db.selectFrom('event_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('a settle counts only while its owner holds the row, inside a transaction or not', async () => {
    pair = await twoConnections(engine);
    const p = pair;
    const [first, second] = await seedDeliveries(p.a, 0, ['c1', 'c2']);
    const claimed = await subscriptionsRepo.claim(p.a, 's1', 'worker-a', T0, T0 + LEASE, 2);
    expect(claimed.map((r) => r.id).sort()).toEqual([first, second]);
    // Another owner's settle changes nothing: worker a still holds both.
    expect(await subscriptionsRepo.settle(p.b, first as string, 'worker-b', outcome)).toBe(false);
    expect(await row(p.a, first as string)).toMatchObject({ state: 'pending', lease_owner: 'worker-a' });
    // The holder's settle writes the outcome and gives the lease back; a retry leaves delivered_at alone.
    expect(await subscriptionsRepo.settle(p.a, first as string, 'worker-a', outcome)).toBe(true);
    expect(await row(p.a, first as string)).toMatchObject({
      state: 'delivered',
      attempts: 1,
      last_status: 200,
      delivered_at: T0,
      lease_owner: null,
      lease_until: null,
    });
    const retry = {
      state: 'pending' as const,
      attempts: 1,
      next_attempt_at: T0 + 5000,
      last_status: 503,
      last_error: 'HTTP 503',
      updated_at: T0,
    };
    const settled = await p.a
      .transaction()
      .execute((trx) => subscriptionsRepo.settle(trx, second as string, 'worker-a', retry));
    expect(settled).toBe(true);
    expect(await row(p.a, second as string)).toMatchObject({
      state: 'pending',
      last_status: 503,
      last_error: 'HTTP 503',
      delivered_at: null,
      lease_owner: null,
    });
    // Settled once, the row is no longer held: a second settle by the same owner counts for nothing.
    expect(await subscriptionsRepo.settle(p.a, first as string, 'worker-a', outcome)).toBe(false);
  });

  it("a batch's attempts go in together, however many", async () => {
    pair = await twoConnections(engine);
    const p = pair;
    const attempts = Array.from({ length: 250 }, (_, i) => ({
      id: `at${String(i).padStart(4, '0')}`,
      subscription_id: 's1',
      delivery_id: `ed${i}`,
      event_id: `ev${i}`,
      event_type: 'message.received',
      at: T0 + i,
      status_code: i % 2 === 0 ? 200 : null,
      latency_ms: i,
      error: i % 2 === 0 ? null : 'timeout',
    }));
    await p.a.transaction().execute((trx) => subscriptionsRepo.recordAttempts(trx, attempts));
    await subscriptionsRepo.recordAttempts(p.a, []);
    const stored = await p.a.selectFrom('event_delivery_attempts').selectAll().orderBy('id').execute();
    expect(stored).toEqual(attempts);
  });
});
