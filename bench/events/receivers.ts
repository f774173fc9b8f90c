// The event benchmark's subscribers, in their own process (never inside the daemon or the load
// client): `count` real HTTP receivers that verify every delivery's signature with the official
// `standardwebhooks` package, answer 204, and note when each `message.received` arrived (wall-clock
// ms, to compare with the load client's time of that message's 200). Control, on each receiver:
// POST /secret (body: the whsec_ secret) and GET /stats. Prints one line, {"urls": [...]}, when up.
// Run: node --import tsx bench/events/receivers.ts <count>
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceiverStats {
  requests: number;
  unverified: number;
  /** Requests whose webhook-id had arrived before (a redelivery a receiver would drop). */
  duplicates: number;
  by_type: Record<string, number>;
  /** wamid → wall-clock ms of the first arrival of its `message.received`. */
  received_at: Record<string, number>;
}

function receiver(): Promise<string> {
  let verifier: Webhook | undefined;
  const seen = new Set<string>();
  const stats: ReceiverStats = { requests: 0, unverified: 0, duplicates: 0, by_type: {}, received_at: {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/secret') {
        verifier = new Webhook(body.trim());
        res.writeHead(204).end();
        return;
      }
      if (req.url === '/stats') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
        return;
      }
      stats.requests += 1;
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let envelope: { type?: string; data?: { wamid?: string } } = {};
      try {
        // verify() parses the body too; a failed check still counts the request.
        envelope = (verifier ? verifier.verify(body, headers) : JSON.parse(body)) as typeof envelope;
      } catch {
        stats.unverified += 1;
        envelope = JSON.parse(body) as typeof envelope;
      }
      if (seen.has(headers['webhook-id'])) stats.duplicates += 1;
      seen.add(headers['webhook-id']);
      const type = envelope.type ?? 'unknown';
      stats.by_type[type] = (stats.by_type[type] ?? 0) + 1;
      const wamid = envelope.data?.wamid;
      if (type === 'message.received' && wamid && stats.received_at[wamid] === undefined) {
        stats.received_at[wamid] = at;
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

const count = Number(process.argv[2] ?? 3);
const urls = await Promise.all(Array.from({ length: count }, () => receiver()));
process.stdout.write(`${JSON.stringify({ urls })}\n`);
