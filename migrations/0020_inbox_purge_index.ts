// The retention purge of processed and rejected deliveries (store/housekeeping-repo.ts) runs on every
// scheduler tick. With (state, id) and (received_at) to choose from, SQLite's planner (no ANALYZE
// statistics) took (state, id) for `state in (...) and received_at < cutoff order by received_at`: it
// read every finished row in the inbox and sorted them to find none old enough, 112 ms at 81k rows in
// bench/ingress, growing with the 30 days of deliveries kept and holding the event loop every tick.
// (state, received_at) answers each state's oldest rows in order and stops at the batch's limit.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('inbox_state_received').on('inbox').columns(['state', 'received_at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('inbox_state_received').execute();
}
