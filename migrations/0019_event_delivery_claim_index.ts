// The event-delivery claim walks one subscription's pending rows in sequence order and stops at its
// limit (subscriptions-repo.ts claim). With only (state, next_attempt_at) to go on, SQLite's planner
// (no ANALYZE statistics) read every pending row of every subscription, ran the per-conversation
// "earlier one still pending" check on each and sorted them: 13-17 ms a claim at 22k pending rows,
// which held delivery to ~170 a second at full CPU in bench/events. (subscription_id, state, event_seq)
// answers the claim in order and stops after the limit (0.04-0.06 ms on the same database copy). The
// old index only served the claim; the oldest-pending metric gets (state, created_at) instead.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('event_deliveries_due').execute();
  await db.schema
    .createIndex('event_deliveries_claim')
    .on('event_deliveries')
    .columns(['subscription_id', 'state', 'event_seq'])
    .execute();
  await db.schema
    .createIndex('event_deliveries_age')
    .on('event_deliveries')
    .columns(['state', 'created_at'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('event_deliveries_age').execute();
  await db.schema.dropIndex('event_deliveries_claim').execute();
  await db.schema
    .createIndex('event_deliveries_due')
    .on('event_deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute();
}
