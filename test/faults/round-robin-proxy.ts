// A load balancer for the several-instances scenario: a TCP proxy that hands each new connection to
// the next instance in turn and, when that one refuses (killed), to the one after it, as nginx's
// `proxy_next_upstream error` does. A connection already bound to an instance that dies is reset, as
// a real balancer's would be; the client sees the error and retries.
import net from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** New connections per instance port, for the report. */
  connections: Map<number, number>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(ports: readonly number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const open = new Set<net.Socket>();
  const connections = new Map<number, number>();
  const track = (s: net.Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  };
  const server = net.createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    let tries = 0;
    const attempt = () => {
      const port = ports[next++ % ports.length] as number;
      const upstream = net.connect(port, '127.0.0.1');
      track(upstream);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        connections.set(port, (connections.get(port) ?? 0) + 1);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        upstream.destroy();
        if (!connected && ++tries < ports.length && !client.destroyed) attempt();
        else client.destroy();
      });
      upstream.on('close', () => {
        if (connected) client.destroy();
      });
      client.on('close', () => upstream.destroy());
    };
    attempt();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
