// Real loopback targets for health specs: a listening server, a closed port, and a port that
// never answers (a stopped process whose accept queue is full, so the kernel drops further SYNs).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';

export async function listeningServer(port = 0): Promise<net.Server> {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  server.listen({ host: '127.0.0.1', port });
  await once(server, 'listening');
  return server;
}

export function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

export async function closeServer(server: net.Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port that was just free: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = await listeningServer();
  const port = portOf(server);
  await closeServer(server);
  return port;
}

export interface Blackhole {
  port: number;
  close(): Promise<void>;
}

/** A listener (backlog 1) in a child process that is stopped once its accept queue is full. */
export async function blackhole(): Promise<Blackhole> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('net').createServer();s.listen({host:'127.0.0.1',port:0,backlog:1},()=>console.log(s.address().port))",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  child.kill('SIGSTOP');
  const fillers: net.Socket[] = [];
  // Fill the accept queue: stop at the first connect that doesn't complete (bounded).
  for (let i = 0; i < 16; i++) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await Promise.race([
      once(socket, 'connect').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 150)),
    ]);
    if (!connected) break;
  }
  return {
    port,
    async close() {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}
