// Child of inspect-e2e.ts: Tether's runtime alone in its process (bundled, run by plain node, possibly under
// valgrind or strace), one frontend with `inspect` from E2E_INSPECT over E2E_BACKEND_PORTS. Prints one JSON
// line when it listens; on SIGTERM prints what it counted and the listener paths, closes and exits.
import net from 'node:net';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { benchSnapshot } from './proxies.js';

const inspect = process.env.E2E_INSPECT === 'cmpp' ? 'cmpp' : 'none';
const port = Number(process.env.E2E_PORT);
const backendPorts = (process.env.E2E_BACKEND_PORTS ?? '').split(',').map(Number);

/**
 * Under valgrind the first pass through Node's socket code is slow enough (translation, then compilation) that the
 * runtime's self-tests can miss their 2 s deadlines and fall back to the public paths. A few loopback round trips
 * first (E2E_PREWARM, default 0; inspect-e2e.ts sets it for callgrind) take that first pass out of them.
 */
async function prewarm(trips: number): Promise<void> {
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve),
  );
  const port = (server.address() as net.AddressInfo).port;
  for (let i = 0; i < trips; i++) {
    const client = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.once('connect', () => {
        client.pause();
        client.write(Buffer.alloc(64, i));
        client.resume();
        client.once('data', () => {
          client.end();
          client.once('close', () => resolve());
        });
      });
    });
  }
  await new Promise((resolve) => server.close(resolve));
}

await prewarm(Number(process.env.E2E_PREWARM) || 0);
const runtime = new ProxyRuntime();
const snapshot = benchSnapshot(port, backendPorts);
snapshot.frontends[0].inspect = inspect;
await runtime.apply(snapshot);
const paths = await runtime.listenerPaths();
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, paths }) + '\n');

process.once('SIGTERM', () => {
  void (async () => {
    const stats = await runtime.stats();
    const cmpp = stats.frontends[0]?.cmpp ?? null;
    const counted =
      cmpp === null
        ? null
        : {
            submits: cmpp.up.submit,
            submitResps: cmpp.down.submitResp,
            latencySamples: cmpp.latency.counts.reduce((a, b) => a + b, 0),
          };
    process.stdout.write(JSON.stringify({ counted, memory: process.memoryUsage() }) + '\n');
    await runtime.close();
    process.exit(0);
  })();
});
