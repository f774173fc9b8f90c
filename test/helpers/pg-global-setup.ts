// The PostgreSQL pass's setup: refuses to start without TEST_DATABASE_URL (a pass that silently ran on
// SQLite would prove nothing), names this run so its test databases carry its prefix, and drops any
// of them a crashed or interrupted test left behind.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export default async function setup(): Promise<() => Promise<void>> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url)
    throw new Error(
      'the PostgreSQL pass needs TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test',
    );
  const run = randomBytes(3).toString('hex');
  // Inherited by the test processes (forked after this runs): engines.ts prefixes databases with it.
  process.env.TEST_PG_RUN = run;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.end();
  return async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const left = await admin.query<{ datname: string }>(
        'select datname from pg_database where datname like $1',
        [`nwt_${run}_%`],
      );
      for (const { datname } of left.rows)
        await admin.query(`drop database if exists ${datname} with (force)`);
    } finally {
      await admin.end();
    }
  };
}
