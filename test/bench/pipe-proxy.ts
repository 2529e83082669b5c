// Child process: the baseline the issue quotes, a bare `socket.pipe` relay with round robin.
import net from 'node:net';
import { announce, serve } from './ipc.js';

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
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  serve({});
  announce({ port: (server.address() as net.AddressInfo).port });
});
