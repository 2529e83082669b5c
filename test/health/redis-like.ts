// Real loopback servers for tcp-check tests: one that answers "+PONG\r\n" only to "PING\r\n" (as Redis does),
// one that answers something else, one that reads and never answers. Each counts the connections it accepted.
import { once } from 'node:events';
import net from 'node:net';

export type Behaviour = 'pong' | 'wrong-then-close' | 'wrong-stay-open' | 'silent' | 'flood';

export interface CountingServer {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Everything received, all connections together (latin1), at most 64 KB. */
  received: string;
  close(): Promise<void>;
}

export async function behavingServer(behaviour: Behaviour, port = 0): Promise<CountingServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      if (state.received.length < 65_536) state.received += chunk.toString('latin1');
      text += chunk.toString('latin1');
      if (behaviour === 'pong' && text.includes('PING\r\n')) {
        text = ''; // one answer per PING
        socket.write('+PONG\r\n');
      } else if (behaviour === 'wrong-then-close') socket.end('-ERR unknown command\r\n');
      else if (behaviour === 'wrong-stay-open') socket.write('-ERR unknown command\r\n');
      else if (behaviour === 'flood') {
        // 64 KB without the expected bytes, in bounded writes, then silence (the check must not wait for more).
        for (let i = 0; i < 16; i++) socket.write(Buffer.alloc(4096, 0x2d));
      }
    });
  });
  server.listen({ host: '127.0.0.1', port });
  await once(server, 'listening');
  const state: CountingServer = {
    port: (server.address() as net.AddressInfo).port,
    accepted: 0,
    received: '',
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
