// Due follow-ups written straight into the table, for tests of how a tick claims and decides them
// (several on one conversation: each is decided on its own).
import type { Db } from '../../src/store/db.js';
import { followUpsRepo } from '../../src/store/follow-ups-repo.js';
import { withTransaction } from '../../src/store/transactions.js';

/** `count` follow-ups of rule `nudge` on `conversationId`, all due at `now`, ids `due-000`, `due-001`, ... */
export async function insertDueFollowUps(db: Db, conversationId: string, now: number, count: number) {
  await withTransaction(db, async (trx) => {
    for (let i = 0; i < count; i++) {
      await followUpsRepo.insertIfNew(trx, {
        id: `due-${String(i).padStart(3, '0')}`,
        conversation_id: conversationId,
        rule_id: 'nudge',
        silence_from: now - 1000 * (i + 1),
        sequence: 0,
        due_at: now,
        state: 'scheduled',
        lease_until: null,
        outbox_id: null,
        sent_wamid: null,
        skip_reason: null,
        created_at: now,
        updated_at: now,
      });
    }
  });
}
