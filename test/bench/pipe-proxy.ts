// Child process: the baseline the issue quotes, a bare `socket.pipe` relay with round robin.
// With BENCH_PROXY_WORKERS=N > 1, N copies share one listening socket (workers.ts).
import net from 'node:net';
import { announce, serve } from './ipc.js';
import { isWorkerPrimary, runWorkerPrimary } from './workers.js';

function runPipe(): void {
  const upstreams: number[] = JSON.parse(process.env.BENCH_UPSTREAM_PORTS ?? '[]');
  let turn = 0;
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({
      host: '127.0.0.1',
      port: upstreams[turn++ % upstreams.length],
      noDelay: true,
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.on('error', (err) => console.error('pipe proxy:', err.message));
  // In cluster workers the port comes from BENCH_PIPE_PORT so that all of them share one socket.
  const port = Number(process.env.BENCH_PIPE_PORT ?? '0');
  server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
    serve({});
    announce({ port: (server.address() as net.AddressInfo).port, pids: [process.pid] });
  });
}

if (isWorkerPrimary()) await runWorkerPrimary([], { port: Number(process.env.BENCH_PIPE_PORT) });
else runPipe();
