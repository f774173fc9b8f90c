// outbound_pending (part of queue pressure) comes from per-agent and per-channel counts the outbox
// repository keeps as rows move, not from the outbox. Random moves (insert, send, fail, cancel, retry)
// of rows in conversations of two agents, an unowned conversation and no conversation at all: after
// each, the counts answer what counting the outbox rows themselves answers, per agent and overall.
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { insightsRepo } from '../../src/store/insights-repo.js';
import { type OutboxRow, outboxRepo } from '../../src/store/outbox-repo.js';
import { bareOutboxRow } from '../helpers/outbox-rows.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const T0 = Date.parse('2026-01-05T08:00:00Z');
/** Where a row goes: a conversation of agent 1, of agent 2, of no agent, or none on a channel. */
const PLACES = [
  { conversation_id: 'conv1', phone_number_id: 'pn1' },
  { conversation_id: 'conv2', phone_number_id: 'pn2' },
  { conversation_id: 'conv0', phone_number_id: 'pn9' },
  { conversation_id: null, phone_number_id: 'pn1' },
  { conversation_id: null, phone_number_id: 'pn2' },
  { conversation_id: null, phone_number_id: 'pn9' },
] as const;

let t: TestApp;
let db: Db;

beforeAll(async () => {
  t = await createTestApp({ memory: true, start: T0 });
  db = t.deps.db;
  for (const a of [1, 2]) {
    await db
      .insertInto('agents')
      .values({
        id: a,
        uuid: `agent-${a}`,
        name: `A${a}`,
        kind: 'private',
        phone_number_id: `pn${a}`,
        created_at: T0,
      })
      .execute();
  }
  for (const [id, agent, pn] of [
    ['conv1', 1, 'pn1'],
    ['conv2', 2, 'pn2'],
    ['conv0', null, 'pn9'],
  ] as const) {
    await db
      .insertInto('contacts')
      .values({ id: `k${id}`, created_at: T0, updated_at: T0 })
      .execute();
    await db
      .insertInto('conversations')
      .values({
        id,
        phone_number_id: pn,
        contact_id: `k${id}`,
        agent_id: agent,
        queue_state: 'pending',
        assigned_route: 'ai',
        opened_at: T0,
        updated_at: T0,
        last_message_at: T0,
      })
      .execute();
  }
});

afterAll(async () => {
  await t?.close();
});

/** The answer from the outbox rows themselves (the query insights ran before the counts). */
async function counted(agent: { id: number; pnid: string } | null): Promise<number> {
  const rows = await sql<{ n: number }>`
    select count(*) as n from outbox o left join conversations c on c.id = o.conversation_id
    where o.state in ('queued', 'sending')
    ${agent ? sql`and (c.agent_id = ${agent.id} or (o.conversation_id is null and o.phone_number_id = ${agent.pnid}))` : sql``}
  `.execute(db);
  return Number(rows.rows[0]?.n ?? 0);
}

const move = fc.record({
  op: fc.constantFrom('insert', 'sending', 'sent', 'failed', 'dead', 'cancel', 'retry', 'requeue'),
  place: fc.integer({ min: 0, max: PLACES.length - 1 }),
  pick: fc.nat(),
});

describe('outbound pending counts', () => {
  it('answer as counting the outbox does, per agent and overall, whatever the rows went through', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(move, { maxLength: 40 }), async (moves) => {
        await db.deleteFrom('outbox').execute();
        await db.deleteFrom('outbound_pending_counts').execute();
        await db.updateTable('conversations').set({ pending_outbound: 0 }).execute();
        for (const m of moves) {
          const rows = await db.selectFrom('outbox').selectAll().orderBy('id').execute();
          const row = rows.length > 0 ? (rows[m.pick % rows.length] as OutboxRow) : undefined;
          if (m.op === 'insert' || !row) {
            const place = PLACES[m.place] as (typeof PLACES)[number];
            n += 1;
            await outboxRepo.insert(db, bareOutboxRow(`o${String(n).padStart(6, '0')}`, T0, place));
            continue;
          }
          // Each move only from the states the sender, opt-out and recovery take it from.
          const unsent = row.state === 'queued' || row.state === 'sending';
          if (m.op === 'sending' && row.state === 'queued') {
            // As the sender does: claimed (by owner, with a lease) before it is marked sending.
            await outboxRepo.claimForQueue(db, 'test', T0, T0 + 60_000, 1000);
            await outboxRepo.markSending(db, row.id, 'test', T0, T0 + 60_000);
          }
          if (m.op === 'sent' && unsent) await outboxRepo.markSent(db, row, 'wamid.x', T0);
          if ((m.op === 'failed' || m.op === 'dead') && row.state === 'sending') {
            await outboxRepo.markFinal(db, row, m.op, { code: 131026, title: 'undeliverable' }, T0);
          }
          if (m.op === 'cancel') await outboxRepo.cancelQueued(db, [row.id], 'opted out', T0);
          if (m.op === 'retry') await outboxRepo.requeueFailed(db, row, T0);
          if (m.op === 'requeue' && row.state === 'sending')
            await outboxRepo.requeue(db, row.id, T0 + 1000, T0, null);
        }
        for (const [scope, agent] of [
          [{ all: true } as const, null],
          [{ agent_id: 1 }, { id: 1, pnid: 'pn1' }],
          [{ agent_id: 2 }, { id: 2, pnid: 'pn2' }],
        ] as const) {
          expect(await insightsRepo.outboundPending(db, scope, agent?.pnid ?? null)).toBe(
            await counted(agent),
          );
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 100) },
    );
  });
});
