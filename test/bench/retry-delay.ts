// `npx tsx test/bench/retry-delay.ts [--clients 300]`: what HAProxy 2.6's turn-around delay before a same-server
// retry (min(timeout connect, 1 s) after a refused connect) does to a burst of reconnecting clients, against Tether,
// which has none (docs/haproxy-import.md, "Retries"). One backend of a dead and a live server, `balance source`,
// `retries 3`, `option redispatch` (the last retry goes to the live one), the same config in both; the clients
// connect at once from 20 source addresses and each waits for the live server's first line. Prints per proxy: the
// time until the last client is served, p50/p99 per client, and how many went through the dead server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, freePort, frontend, listen, named, server, sleep, snapshot } from '../helpers/net.js';

const argv = process.argv.slice(2);
const CLIENTS = Number(argv[argv.indexOf('--clients') + 1] ?? 300) || 300;
const SOURCES = 20;
/** `--map-based`: HAProxy's redispatch then re-hashes onto the dead server (Tether excludes it whatever the hash). */
const HASH = argv.includes('--map-based') ? 'map-based' : 'consistent';

async function burst(port: number): Promise<number[]> {
  const started = performance.now();
  const one = (i: number) =>
    new Promise<number>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % SOURCES)}` });
      const timer = setTimeout(
        () => reject(new Error(`client ${i} to port ${port} not served in 15 s`)),
        15_000,
      );
      socket.on('data', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(performance.now() - started);
      });
      socket.on('error', reject);
      // Closed unserved (HAProxy with `hash-type map-based`: its redispatch hashes to the dead server again).
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Number.POSITIVE_INFINITY);
      });
    });
  return Promise.all(Array.from({ length: CLIENTS }, (_, i) => one(i)));
}

function report(name: string, times: number[], viaDead: string): void {
  const failed = times.filter((t) => t === Number.POSITIVE_INFINITY).length;
  times = times.filter((t) => t !== Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  if (failed > 0) viaDead = `${failed} closed unserved; ${viaDead}`;
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(0);
  console.log(
    `${name}: ${CLIENTS} clients, all served after ${times[times.length - 1].toFixed(0)} ms; p50 ${at(0.5)} ms, p99 ${at(0.99)} ms; ${viaDead}`,
  );
}

const live = await listen(named('live'));
const dead = await freePort();
const [hp, tp] = [await freePort(), await freePort()];
console.log(`haproxy on ${hp}, tether on ${tp}`);

const dir = mkdtempSync(join(tmpdir(), 'retry-delay-'));
const sock = join(dir, 'h.sock');
writeFileSync(
  join(dir, 'h.cfg'),
  [
    'global',
    `  stats socket ${sock} level admin`,
    '  maxconn 5000',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend f',
    `  bind 127.0.0.1:${hp}`,
    '  default_backend b',
    'backend b',
    '  balance source',
    `  hash-type ${HASH}`,
    '  retries 3',
    '  option redispatch',
    `  server dead 127.0.0.1:${dead}`,
    `  server live 127.0.0.1:${live.port}`,
    '',
  ].join('\n'),
);
const haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'h.cfg')], { stdio: 'ignore' });
const rt = new ProxyRuntime({});
try {
  await rt.apply(
    snapshot(
      [frontend('f', tp, 'b')],
      [
        backend('b', [server('dead', dead), server('live', live.port)], {
          balance: 'source',
          hashType: HASH,
          retries: 3,
          redispatch: true,
        }),
      ],
    ),
  );
  await sleep(500);
  const stat = () =>
    new Promise<string>((resolve) => {
      const s = net.connect(sock);
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('end', () => resolve(out));
      s.on('connect', () => s.end('show stat\n'));
    });
  for (let round = 1; round <= 2; round++) {
    report(`HAProxy 2.6 round ${round}`, await burst(hp), 'dead/wredis by show stat below');
    const t = await burst(tp);
    const d = (await rt.stats()).backends[0].servers[0];
    report(
      `Tether round ${round}`,
      t,
      `dead server so far: econ ${d.econ}, wretr ${d.wretr}, wredis ${d.wredis}`,
    );
  }
  const line = (await stat()).split('\n').find((l) => l.startsWith('b,dead,'));
  const cols = line?.split(',') ?? [];
  console.log(
    `HAProxy dead server after both rounds: econ ${cols[13]}, wretr ${cols[15]}, wredis ${cols[16]}`,
  );
} finally {
  haproxy.kill('SIGTERM');
  await rt.close();
  await live.close();
  rmSync(dir, { recursive: true, force: true });
}
