// Overload shed in the raw listener (SPEC §9, issue 20), against a real listening daemon: past its
// limits a webhook or API request is answered 503 + Retry-After before its body is read (the requests
// here send their headers and a few bytes of a body that never comes: only a refusal that does not wait
// for the body can answer them at once), while /healthz, /readyz and /metrics are still served.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorEnvelope } from '../../src/http/errors.js';
import { EVENTS_STREAM_PATH } from '../../src/http/routes/events.js';
import { waitFor } from '../helpers/daemon-process.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { fixture, WEBHOOK } from '../webhook/deliveries.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

// A body that never completes would otherwise wait here for body_timeout (or be cut 408 after the
// grace): long enough that an answer within the waits below can only be the early refusal.
const SERVER = { body_rate_grace: '5s', body_timeout: '30s' };

interface RawClient {
  socket: net.Socket;
  response: () => string;
  closed: () => boolean;
}

function connect(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    let data = '';
    let closed = false;
    const socket = net.connect(port, '127.0.0.1', () =>
      resolve({ socket, response: () => data, closed: () => closed }),
    );
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      data += d;
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

/** Headers announcing a 100,000-byte body, then only its first bytes. */
async function startedBody(port: number, path: string, headers: Record<string, string> = {}) {
  const c = await connect(port);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  c.socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}Content-Length: 100000\r\n\r\n{"a`,
  );
  return c;
}

function parse(raw: string) {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const body = raw.slice(raw.indexOf('{'), raw.lastIndexOf('}') + 1);
  return { status: Number(head.split(' ')[1]), head, body };
}

describe('overload is refused in the raw listener, before the body is read', () => {
  it('an API request past api_max_in_flight gets 503 + Retry-After at once; health, readiness, metrics and the webhook are served', async () => {
    t = await createTestApp({
      listen: true,
      config: { server: SERVER, load: { api_max_in_flight: 1, retry_after: '3s' } },
    });
    const { port, url } = t.daemon;
    // The event stream stays open: one API request in flight for as long as the test runs.
    const stream = await connect(port);
    stream.socket.write(
      `GET ${EVENTS_STREAM_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.tokens.standard}\r\n\r\n`,
    );
    await waitFor(() => stream.response().includes('200 OK'), 5_000);

    const c = await startedBody(port, '/api/extensions/native-whatsapp/management/config', {
      Authorization: `Bearer ${t.tokens.root}`,
    });
    await waitFor(() => c.closed(), 4_000);
    const answer = parse(c.response());
    expect(answer.status).toBe(503);
    expect(answer.head).toMatch(/\r\nRetry-After: 3\r\n/i);
    expect(errorEnvelope.parse(JSON.parse(answer.body)).error.code).toBe('overloaded');

    // Never shed: liveness, readiness, metrics; and the webhook has its own limit.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${t.tokens.root}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(
      /nwa_http_shed_total\{surface="api",reason="early_in_flight"[^}]*\} 1/,
    );
    const d = fixture('msg_text_plain.json');
    const delivered = await fetch(`${url}${WEBHOOK}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': d.signature },
      body: d.body,
    });
    expect(delivered.status).toBe(200);

    // Once the stream ends, API requests are read again.
    stream.socket.destroy();
    const app = t;
    await waitFor(
      async () =>
        (
          await fetch(`${url}/api/extensions/native-whatsapp/management/config`, {
            headers: { authorization: `Bearer ${app.tokens.root}` },
          })
        ).status === 200,
      5_000,
      50,
    );

    // The answer is documented for every API route (the health routes never give it).
    const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(
      doc.paths['/api/extensions/native-whatsapp/management/config']?.put?.responses['503'],
    ).toBeDefined();
    expect(doc.paths['/healthz']?.get?.responses['503']).toBeUndefined();
  });

  it('a delivery while the event loop keeps running late gets 503 + Retry-After at once; /healthz is served', async () => {
    t = await createTestApp({
      listen: true,
      config: { server: SERVER, load: { max_event_loop_delay_ms: 50 } },
    });
    const { port } = t.daemon;
    // The daemon runs in this process: holding the loop here is holding the daemon's loop.
    const stall = async (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // busy: timers cannot run
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    let shed: string | undefined;
    const deadline = performance.now() + 15_000;
    while (shed === undefined && performance.now() < deadline) {
      for (let i = 0; i < 5; i++) await stall(120);
      const c = await startedBody(port, WEBHOOK, { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` });
      await waitFor(() => c.closed(), 1_000).catch(() => undefined);
      if (c.closed()) shed = c.response();
      c.socket.destroy();
    }
    expect(shed, 'no early 503 while the loop ran late').toBeDefined();
    const answer = parse(shed as string);
    expect(answer.status).toBe(503);
    expect(answer.head).toMatch(/\r\nRetry-After: 1\r\n/i);
    expect(errorEnvelope.parse(JSON.parse(answer.body)).error.code).toBe('overloaded');

    // /healthz is answered while the loop runs just as late.
    for (let i = 0; i < 5; i++) await stall(120);
    const h = await connect(port);
    h.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => h.closed(), 5_000);
    expect(h.response()).toMatch(/^HTTP\/1.1 200/);
  });
});
