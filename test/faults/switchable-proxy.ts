// A TCP proxy on a fixed local port in front of the fake Cloud API, which the fault suite can take
// down (listener closed, open connections reset: the daemon sees connection refused / reset, as when
// graph.facebook.com is unreachable) and bring back on the same port.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SwitchableProxy {
  url: string;
  up: boolean;
  down(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchableProxy(targetPort: number): Promise<SwitchableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const addr = s.address();
        if (typeof addr === 'object' && addr) port = addr.port;
        server = s;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.resetAndDestroy();
      sockets.clear();
      if (!s) resolve();
      else s.close(() => resolve());
    });

  await listen();
  const proxy: SwitchableProxy = {
    url: `http://127.0.0.1:${port}`,
    up: true,
    async down() {
      proxy.up = false;
      await stop();
    },
    async restore() {
      // The port was ours a moment ago; another process could take it meanwhile, so retry briefly.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await listen();
          proxy.up = true;
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    close: stop,
  };
  return proxy;
}
