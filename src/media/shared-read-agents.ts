// Keep-alive agents for the media downloads whose sockets read into one buffer allocated once, instead
// of a new 64 KiB buffer per socket read. Node's HTTP client copies every body chunk out of what the
// socket read (llhttp's on_body makes its own Buffer), so a read buffer is garbage once parsed: at
// 50 downloads/s of 200 KB that was 10 MB/s of 64 KiB blocks waiting for a GC in glibc's arena, where
// the holes they leave between longer-lived blocks kept RSS growing (bench/media, issue 16).
// The bytes are handed to the HTTP client as a 'data' event, synchronously: it parses them (headers
// to strings, body bytes copied) before the next read can overwrite the buffer. The one reader that
// keeps a reference past the call, an upgrade's head (never asked for here) or a parse error's
// `rawPacket` (never read here), would see later bytes.
import { type AgentOptions, Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** libuv's own read size: a read is never smaller than it was. */
const READ_BUFFER_BYTES = 64 * 1024;

type ConnectOptions = Parameters<HttpAgent['createConnection']>[0];
type ConnectCallback = Parameters<HttpAgent['createConnection']>[1];

export interface SharedReadAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

export function createSharedReadAgents(options: AgentOptions): SharedReadAgents {
  // One buffer for every socket of both agents: reads are handled one at a time on the event loop,
  // and each is parsed before it returns.
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  function onread(this: Socket, nread: number, buf: Uint8Array): void {
    this.emit('data', (buf as Buffer).subarray(0, nread));
  }
  const withBuffer = (o: ConnectOptions) => ({ ...o, onread: { buffer, callback: onread } });

  class SharedReadHttpAgent extends HttpAgent {
    override createConnection(o: ConnectOptions, cb?: ConnectCallback): Duplex | null | undefined {
      return super.createConnection(withBuffer(o), cb);
    }
  }
  // https.Agent's createConnection (TLS session reuse kept) passes the options on to tls.connect,
  // which reads the decrypted bytes into the same buffer.
  class SharedReadHttpsAgent extends HttpsAgent {
    override createConnection(o: ConnectOptions, cb?: ConnectCallback): Duplex | null | undefined {
      return super.createConnection(withBuffer(o), cb);
    }
  }
  return { http: new SharedReadHttpAgent(options), https: new SharedReadHttpsAgent(options) };
}
