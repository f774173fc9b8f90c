// The download agents' sockets all read into one buffer (src/media/shared-read-agents.ts): bodies
// downloaded at once, interleaved read by read, paused by a slow consumer and over reused keep-alive
// connections, must each arrive whole, over plain HTTP and over TLS.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type RequestListener } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSharedReadAgents, type SharedReadAgents } from '../../src/media/shared-read-agents.js';

const BODY_BYTES = 300 * 1024;
const DOWNLOADS = 12;

/** Distinct bytes per body (a body read into another's buffer would not hash right). */
function bodyOf(i: number): Buffer {
  const b = Buffer.alloc(BODY_BYTES);
  for (let k = 0; k < b.length; k++) b[k] = (k * 31 + i * 7 + (k >> 9)) & 255;
  return b;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Each body in 20 KB writes a turn apart, so the downloads' reads interleave. */
const serve: RequestListener = (req, res) => {
  const body = bodyOf(Number(req.url?.slice(1)));
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  let at = 0;
  const step = () => {
    if (at >= body.length) {
      res.end();
      return;
    }
    res.write(body.subarray(at, at + 20_000));
    at += 20_000;
    setImmediate(step);
  };
  step();
};

let server: Server | undefined;
let agents: SharedReadAgents | undefined;
let certDir: string | undefined;
/** Every buffer the sockets read into. */
const readInto = new Set<ArrayBufferLike>();

afterEach(async () => {
  agents?.http.destroy();
  agents?.https.destroy();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
  server = agents = certDir = undefined;
  readInto.clear();
});

async function listen(s: Server): Promise<number> {
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

/** Downloads body `i`; every third consumer stops reading for a moment (backpressure pauses the socket). */
function download(tls: boolean, port: number, i: number): Promise<{ hash: string; socket: unknown }> {
  const a = agents as SharedReadAgents;
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      {
        host: '127.0.0.1',
        port,
        path: `/${i}`,
        agent: tls ? a.https : a.http,
        ...(tls ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const socket = res.socket;
        // What the socket read, before the HTTP client copied the body out of it.
        socket.on('data', (read: Buffer) => readInto.add(read.buffer));
        const hash = createHash('sha256');
        let chunks = 0;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          if (i % 3 === 0 && ++chunks % 4 === 0) {
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on('end', () => resolve({ hash: hash.digest('hex'), socket }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function downloadAll(tls: boolean, port: number): Promise<void> {
  agents = createSharedReadAgents({ keepAlive: true, maxSockets: 4 });
  // Twelve at once over four sockets: most requests go over a connection used before.
  const got = await Promise.all(Array.from({ length: DOWNLOADS }, (_, i) => download(tls, port, i)));
  expect(got.map((g) => g.hash)).toEqual(Array.from({ length: DOWNLOADS }, (_, i) => sha(bodyOf(i))));
  expect(new Set(got.map((g) => g.socket)).size).toBeLessThanOrEqual(4);
  // One buffer for every read of every socket: no new one per read.
  expect(readInto.size).toBe(1);
}

/** A throwaway self-signed certificate (openssl), or undefined where openssl is missing. */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-cert-'));
  certDir = dir;
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  );
  if (made.status !== 0) return undefined;
  return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
}

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

describe('download agents reading into one shared buffer', () => {
  it('concurrent HTTP downloads, paused and over reused connections, each arrive whole', async () => {
    await downloadAll(false, await listen(createHttpServer(serve)));
  });

  it.skipIf(!hasOpenssl)('so do concurrent HTTPS downloads (TLS decrypts into the same buffer)', async () => {
    const pair = selfSigned();
    expect(pair).toBeDefined();
    await downloadAll(true, await listen(createHttpsServer(pair ?? {}, serve)));
  });
});
