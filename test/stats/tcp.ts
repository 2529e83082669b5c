// Real loopback peers for the stats tests: echo servers standing in for CMPP gateways, and clients
// that stay connected until closed.
import { once } from 'node:events';
import net from 'node:net';

export interface EchoServer {
  port: number;
  /** Sockets the server has accepted and not yet seen closed. */
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export async function echoServer(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data) => socket.write(data));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Client {
  socket: net.Socket;
  /** Sends `text` and resolves once the echo came back in full. */
  roundTrip(text: string): Promise<void>;
  closed: Promise<void>;
}

export async function connectClient(port: number, localAddress = '127.0.0.1'): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (data) => (received += data.toString()));
  return {
    socket,
    closed,
    roundTrip: async (text) => {
      const want = received.length + text.length;
      socket.write(text);
      const deadline = Date.now() + 5000;
      while (received.length < want) {
        if (Date.now() > deadline) throw new Error(`echo of ${JSON.stringify(text)} did not come back`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
