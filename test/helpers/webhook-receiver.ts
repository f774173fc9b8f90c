// A real local HTTP receiver for event webhooks (SPEC §11): records every request, verifies its
// signature with the official `standardwebhooks` package, and answers what the test says (a status,
// a redirect, a hang, garbage). Tests read `received` (verified deliveries in arrival order).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  envelope: { id: string; type: string; conversation_id: string | null; data: Record<string, unknown> };
  /** Verified with the secret(s) the test set (null while none is set). */
  verified: boolean | null;
}

/** `delayMs`: the answer starts that long after the request arrived (a slow subscriber). */
export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | 'hang';

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order. */
  requests: Received[];
  /** Requests the receiver acknowledged (2xx), in arrival order. */
  acknowledged: Received[];
  /** Requests received and not answered yet (slow or hanging answers). */
  pending(): number;
  /** TCP connections the receiver has accepted so far (a kept-alive sender opens few). */
  connections(): number;
  /** Secrets to verify with; a request counts as verified when any one verifies it. */
  secrets: string[];
  /** How to answer the next request (default 204). */
  answer: (r: Received) => Answer;
  close(): Promise<void>;
}

export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const hanging = new Set<ServerResponse>();
  let waiting = 0;
  let connections = 0;
  const receiver: WebhookReceiver = {
    url: '',
    requests: [],
    acknowledged: [],
    pending: () => waiting,
    connections: () => connections,
    secrets: [],
    answer: () => ({ status: 204 }),
    close: async () => undefined,
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      let verified: boolean | null = null;
      if (receiver.secrets.length > 0) {
        verified = receiver.secrets.some((s) => {
          try {
            new Webhook(s).verify(body, headers);
            return true;
          } catch {
            return false;
          }
        });
      }
      let envelope: Received['envelope'];
      try {
        envelope = JSON.parse(body) as Received['envelope'];
      } catch {
        envelope = { id: '', type: 'unparseable', conversation_id: null, data: {} };
      }
      const r: Received = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        envelope,
        verified,
      };
      receiver.requests.push(r);
      const a = receiver.answer(r);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      const respond = () => {
        // The sender may be gone meanwhile (killed): then nothing was acknowledged.
        if (res.destroyed) return;
        if (a.status >= 200 && a.status < 300) receiver.acknowledged.push(r);
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? '');
      };
      if (!a.delayMs) return respond();
      waiting += 1;
      setTimeout(() => {
        waiting -= 1;
        respond();
      }, a.delayMs);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}
