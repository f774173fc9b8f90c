// Honest claims (SPEC §10, issue 18): every queue is claimed in one statement by an owner (the
// daemon's instance id) with a lease expiry, so several daemons on one PostgreSQL never take the same
// row, and a crashed owner's rows are taken over only once its lease runs out. The outbox and
// follow-ups already had `lease_until`; they get the owner. The inbox and responder jobs get both.
// Schema builder only (no SQLite-only SQL): this runs on PostgreSQL too.
import type { Kysely } from 'kysely';

const OWNED: { table: string; leaseUntil: boolean }[] = [
  { table: 'inbox', leaseUntil: true },
  { table: 'outbox', leaseUntil: false },
  { table: 'follow_ups', leaseUntil: false },
  { table: 'responder_jobs', leaseUntil: true },
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
export async function up(db: Kysely<any>): Promise<void> {
  for (const { table, leaseUntil } of OWNED) {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    await db.schema.alterTable(table).addColumn('lease_owner', 'text').execute();
    if (leaseUntil) await db.schema.alterTable(table).addColumn('lease_until', 'bigint').execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
export async function down(db: Kysely<any>): Promise<void> {
  for (const { table, leaseUntil } of OWNED) {
    if (leaseUntil) await db.schema.alterTable(table).dropColumn('lease_until').execute();
    await db.schema.alterTable(table).dropColumn('lease_owner').execute();
  }
}
