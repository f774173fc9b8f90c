// The worker behind sync-sql.ts: runs one PostgreSQL query at a time for a main thread that waits
// on a shared flag (Atomics.wait), and posts the rows back on the port it was given.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

const INT8 = 20;
const NUMERIC = 1700;
// As src/store/postgres.ts: int8 and whole numerics as numbers, so rows read like SQLite's.
const types = {
  getTypeParser(oid, format) {
    if (format !== 'binary' && (oid === INT8 || oid === NUMERIC)) return (v) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

const clients = new Map();
const results = workerData.port;

async function client(url) {
  let c = clients.get(url);
  if (!c) {
    c = new pg.Client({ connectionString: url, types });
    c.on('error', () => clients.delete(url));
    clients.set(url, c);
    await c.connect();
  }
  return c;
}

parentPort.on('message', async (msg) => {
  let reply;
  try {
    if (msg.close) {
      const c = clients.get(msg.url);
      clients.delete(msg.url);
      await c?.end().catch(() => undefined);
      reply = { rows: [], rowCount: 0 };
    } else {
      const res = await (await client(msg.url)).query(msg.text, msg.params);
      reply = { rows: res.rows, rowCount: res.rowCount ?? 0 };
    }
  } catch (err) {
    reply = { error: { message: err.message, code: err.code } };
  }
  results.postMessage(reply);
  Atomics.store(msg.signal, 0, 1);
  Atomics.notify(msg.signal, 0);
});
