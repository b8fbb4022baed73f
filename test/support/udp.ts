/**
 * A UDP server and client on the loopback, the set-up every datagram-hook test
 * needs (hooks/packet/dgram.ts, socket-filter.ts): one helper instead of the
 * same lines in each test.
 */
import dgram from 'node:dgram';

export interface UdpPair {
  server: dgram.Socket;
  client: dgram.Socket;
  /** the server's port on 127.0.0.1 */
  port: number;
  /** send `s` from the client to the server; resolves once the kernel has taken it */
  send(s: string | Uint8Array): Promise<void>;
  close(): void;
}

/**
 * Bind a server on 127.0.0.1 (any port) and create a client; `bindClient` binds the client
 * too, for tests that need its port before the first send.
 */
export async function udpPair(opts: { bindClient?: boolean } = {}): Promise<UdpPair> {
  const server = dgram.createSocket('udp4');
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  if (opts.bindClient) await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    server,
    client,
    port,
    send: (s) => new Promise((r, j) => client.send(s, port, '127.0.0.1', (e) => (e ? j(e) : r()))),
    close: () => {
      server.close();
      client.close();
    },
  };
}
