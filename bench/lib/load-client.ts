// The load client, run as its own process (never inside the server under test). Raw keep-alive
// sockets with requests serialised once and a minimal response parser: node:http's client costs
// several times more CPU per request, and on a small machine the client would become the bottleneck
// it is meant to measure. Closed loop: every connection always has one request out. Open loop:
// requests are due at a fixed `rate` per second whatever the server does. A due request goes out on a
// free connection; when every connection is busy another one is opened (up to `maxConnections`) and the
// request waits in the client for the first connection free, so the client never lowers the offered
// rate by itself, and its latency is timed from when it was due, not from when it went out (no
// coordinated omission). Requests still waiting when the window closes are counted as not sent.
// Prints one JSON result line on stdout.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { type Histogram, record } from './latency-histogram.js';

export interface ClientJob {
  url: string;
  requests: { method: string; path: string; headers: Record<string, string>; body?: string }[];
  durationSec: number;
  connections: number;
  rate?: number;
  /** Open loop: how many connections it may open when all are busy (default: 8 × connections). */
  maxConnections?: number;
  /** Closed loop: send each request once at most, and end when all are answered. */
  maxRequests?: number;
  /** Report the index of every request answered 200 (to account for each delivery by id). */
  recordAccepted?: boolean;
  /** With recordAccepted: also the wall-clock time (ms since the epoch) of each of those answers. */
  recordAcceptedAt?: boolean;
  timeoutMs?: number;
}

export interface ClientResult {
  sent: number;
  not_sent: number;
  answered: number;
  errors: number;
  /** The load window (durationSec); answers still arriving after it are counted too. */
  seconds: number;
  /** How long the answers still out at the end of the window took to arrive. */
  drain_seconds: number;
  statuses: Record<string, number>;
  latency: Histogram;
  /** Indices (into the job's requests) answered 200, when asked for. */
  accepted?: number[];
  /** When each of `accepted` was answered, wall-clock ms (another process compares with it). */
  accepted_at?: number[];
  /** Most connections open at once. */
  connections_used: number;
}

interface Conn {
  socket: net.Socket;
  connected: boolean;
  busy: boolean;
  /** When the request out on it was due (open loop) or written (closed loop). */
  started: number;
  index: number;
  /** A request written before the connection was up. */
  queued?: Buffer;
  chunks: Buffer[];
  size: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

function serialise(job: ClientJob): Buffer[] {
  const target = new URL(job.url);
  return job.requests.map((r) => {
    const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
    const head = [
      `${r.method} ${r.path} HTTP/1.1`,
      `host: ${target.host}`,
      'connection: keep-alive',
      ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`),
      `content-length: ${body.length}`,
      '',
      '',
    ].join('\r\n');
    return Buffer.concat([Buffer.from(head), body]);
  });
}

/** Status and total length of the first complete response in `buf`, if it is complete. */
function parseResponse(buf: Buffer): { status: number; length: number } | undefined {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const length = end + 4 + Number(cl[1]);
    return buf.length >= length ? { status, length } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = buf.indexOf('0\r\n\r\n', end + 4);
    return last >= 0 ? { status, length: last + 5 } : undefined;
  }
  return { status, length: end + 4 };
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ClientJob;
  const target = new URL(job.url);
  const requests = serialise(job);
  const timeoutMs = job.timeoutMs ?? 10_000;
  const result: ClientResult = {
    sent: 0,
    not_sent: 0,
    answered: 0,
    errors: 0,
    seconds: job.durationSec,
    drain_seconds: 0,
    statuses: {},
    latency: {},
    connections_used: 0,
    ...(job.recordAccepted ? { accepted: [] } : {}),
    ...(job.recordAccepted && job.recordAcceptedAt ? { accepted_at: [] } : {}),
  };
  const maxConnections = job.maxConnections ?? job.connections * 8;
  /** Open loop: requests due while every connection was busy, oldest first. */
  const waiting: { index: number; due: number }[] = [];
  let waitingHead = 0;
  const conns: Conn[] = [];
  const idle: Conn[] = [];
  let next = 0;
  let running = true;
  let started = performance.now();
  let endAt = started + job.durationSec * 1000;

  function send(c: Conn, index = next++, due = performance.now()): void {
    const req = requests[index % requests.length] as Buffer;
    c.busy = true;
    c.started = due;
    c.index = index % requests.length;
    result.sent += 1;
    if (c.connected) c.socket.write(req);
    else c.queued = req;
  }

  function sendWaiting(c: Conn): boolean {
    if (waitingHead >= waiting.length) return false;
    const w = waiting[waitingHead++] as { index: number; due: number };
    if (waitingHead > 4096 && waitingHead * 2 > waiting.length) {
      waiting.splice(0, waitingHead);
      waitingHead = 0;
    }
    send(c, w.index, w.due);
    return true;
  }

  const exhausted = () => job.maxRequests !== undefined && next >= job.maxRequests;

  function done(c: Conn): void {
    c.busy = false;
    if (job.rate === undefined && running && !exhausted()) send(c);
    else if (!(running && sendWaiting(c))) idle.push(c);
  }

  function open(): Conn {
    const socket = net.connect({ host: target.hostname, port: Number(target.port) });
    socket.setNoDelay(true);
    const c: Conn = { socket, connected: false, busy: false, started: 0, index: 0, chunks: [], size: 0 };
    socket.on('connect', () => {
      c.connected = true;
      if (c.queued) {
        socket.write(c.queued);
        c.queued = undefined;
      }
    });
    socket.on('data', (d: Buffer) => {
      c.chunks.push(d);
      c.size += d.length;
      let buf = c.chunks.length === 1 ? (c.chunks[0] as Buffer) : Buffer.concat(c.chunks, c.size);
      for (;;) {
        const res = parseResponse(buf);
        if (!res) break;
        if (c.busy) {
          result.answered += 1;
          result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
          if (res.status === 200) {
            result.accepted?.push(c.index);
            result.accepted_at?.push(performance.timeOrigin + performance.now());
          }
          record(result.latency, (performance.now() - c.started) * 1000);
        }
        buf = buf.subarray(res.length);
        done(c);
        if (buf.length === 0) break;
      }
      c.chunks = buf.length ? [buf] : [];
      c.size = buf.length;
    });
    const fail = () => {
      if (c.busy) {
        result.errors += 1;
        c.busy = false;
      }
      const i = conns.indexOf(c);
      if (i >= 0) conns.splice(i, 1);
      const j = idle.indexOf(c);
      if (j >= 0) idle.splice(j, 1);
      // Closed loop keeps its number of connections.
      if (job.rate === undefined && running) send(open());
    };
    socket.on('error', () => socket.destroy());
    socket.on('close', fail);
    conns.push(c);
    result.connections_used = Math.max(result.connections_used, conns.length);
    return c;
  }

  // Requests past the timeout count as errors and their connection is replaced.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const c of [...conns]) if (c.busy && now - c.started > timeoutMs) c.socket.destroy();
  }, 50);

  started = performance.now();
  endAt = started + job.durationSec * 1000;
  if (job.rate === undefined) {
    for (let i = 0; i < job.connections && !exhausted(); i++) send(open());
    const endAt = performance.now() + job.durationSec * 1000;
    while (performance.now() < endAt && !(exhausted() && !conns.some((c) => c.busy))) {
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
    }
    running = false;
  } else {
    // Every connection is opened before the clock starts: a burst of new connections would queue
    // in the kernel's accept backlog, where neither side can see or shed it. Meta, too, delivers
    // over a bounded set of connections.
    await Promise.all(
      Array.from({ length: job.connections }, () => {
        const c = open();
        idle.push(c);
        return new Promise<void>((resolve) => {
          c.socket.once('connect', () => resolve());
          c.socket.once('close', () => resolve());
        });
      }),
    );
    started = performance.now();
    endAt = started + job.durationSec * 1000;
    const rate = job.rate;
    let offered = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now();
        if (now >= endAt) {
          clearInterval(tick);
          resolve();
          return;
        }
        const dueCount = Math.floor(((now - started) / 1000) * rate) - offered;
        for (let k = 0; k < dueCount; k++) {
          // When it was due, not now: a late tick must not hide the client's own lateness.
          const due = started + ((offered + 1) / rate) * 1000;
          offered += 1;
          const c = idle.pop();
          if (c) {
            send(c, next++, due);
            continue;
          }
          waiting.push({ index: next++, due });
          if (conns.length < maxConnections) {
            const fresh = open();
            fresh.socket.once('connect', () => {
              if (!fresh.busy && !(running && sendWaiting(fresh))) idle.push(fresh);
            });
          }
        }
      }, 2);
    });
    running = false;
    result.not_sent = waiting.length - waitingHead;
  }
  // Let requests already out come back (or time out) before counting.
  const drainStart = performance.now();
  const drainUntil = performance.now() + timeoutMs + 1000;
  while (conns.some((c) => c.busy) && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 20));
  }
  clearInterval(watchdog);
  result.drain_seconds = (performance.now() - drainStart) / 1000;
  for (const c of conns) c.socket.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  // A large result (every accepted index) is still in the pipe when write() returns: exit once flushed.
  () => process.stdout.write('', () => process.exit(0)),
  (err) => {
    process.stderr.write(`load client failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
