// `npm run bench:capacity`: issue 10 point 2. The compiled appliance (as `npm start` runs it, with worker
// processes) holds N long connections from S source addresses, each sending a CMPP ACTIVE_TEST every H seconds
// (staggered), for M minutes, while a separate process polls GET /api/v1/stats once a second. Then HAProxy 2.6
// holds as many connections as it can here, for its RSS per connection measured the same way.
// Flags: --connections 50000 --sources 200 --minutes 2 --heartbeat-s 30 --workers auto --haproxy-connections 9000
// --maxconn 50000 (the appliance's defaults.maxconn and frontend maxconn) --ramp-s 300.
// Not a test: prints a table, writes test/artifacts/capacity-<date>.md, exits 1 when a bar fails.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { RUNTIME_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { compileApp } from '../helpers/compiled-app.js';
import {
  FD_LIMIT,
  NodeChild,
  atCleanup,
  killAll,
  repoRoot,
  sleep,
  stderrTail,
  stop,
  track,
  withTimeout,
} from './children.js';
import type { CapacityCounts } from './capacity-client.js';
import { benchHaproxyConfig } from './haproxy-config.js';
import { processTree, rssKb } from './procfs.js';

// ---- settings ----

function flag(name: string, fallback: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1] ?? '';
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return fallback;
}

function intFlag(name: string, fallback: number, min: number, max: number): number {
  const raw = flag(name, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

const CONNECTIONS = intFlag('connections', 50_000, 1, 200_000);
const SOURCES = intFlag('sources', 200, 1, 250);
const MINUTES = Number(flag('minutes', '2'));
if (!(MINUTES > 0 && MINUTES <= 60)) throw new Error(`--minutes must be from 0 to 60, got ${MINUTES}`);
const HEARTBEAT_S = intFlag('heartbeat-s', 30, 1, 3600);
const WORKERS = flag('workers', 'auto');
if (WORKERS !== 'auto' && !/^([1-9]|[1-5]\d|6[0-4])$/.test(WORKERS))
  throw new Error(`--workers must be auto or 1..64, got "${WORKERS}"`);
/** The appliance's defaults.maxconn and the frontend's maxconn: 50,000 as the users' HAProxy config says (each
 *  worker holds its share of it, docs/workers.md). */
const MAXCONN = intFlag('maxconn', Math.max(50_000, CONNECTIONS), CONNECTIONS, 1_000_000);
const HAPROXY_CONNECTIONS = intFlag('haproxy-connections', 9000, 0, 9990);
/** Bound on the ramp-up (all clients connecting). */
const RAMP_S = intFlag('ramp-s', 300, 10, 3600);
/** Connections per load-client process and per backend process: each stays well under its fd limit. */
const PER_PROCESS = 12_500;
const SERVERS = 3;
/** The bars. */
const STATS_P99_MS = 200;
const RSS_RATIO = 1.2;

const sourceAddresses = Array.from({ length: SOURCES }, (_, i) => `127.0.0.${2 + i}`);
const ADMIN_PASSWORD = 'capacity-bench-password-0123';

// ---- clean-up: every child killed on exit, error, signal or watchdog ----

const watchdogMs = (RAMP_S + MINUTES * 60 + 600) * 1000;
const watchdog = setTimeout(() => {
  console.error(`capacity bench: watchdog after ${watchdogMs / 1000} s`);
  killAll();
  process.exit(2);
}, watchdogMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });

// ---- /proc ----

function treeRssKb(pid: number): { kb: number; processes: number } {
  let kb = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    try {
      kb += rssKb(p);
      processes++;
    } catch {
      // exited between the listing and the read
    }
  }
  return { kb, processes };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

// ---- the appliance ----

interface Appliance {
  child: ChildProcess;
  url: string;
  token: string;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function api<T>(
  url: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(url + path, {
    method: init.method ?? 'GET',
    headers: {
      'content-type': 'application/json',
      ...(init.token && { authorization: `Bearer ${init.token}` }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : null) as T;
}

async function startAppliance(main: string): Promise<Appliance> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tether-capacity-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  atCleanup(removeDir);
  const httpPort = await freePort();
  // `npm start`'s way: node with the data plane's flags on the compiled main, the fd limit raised first.
  const script = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const child = spawn('sh', ['-c', script, process.execPath, ...RUNTIME_NODE_FLAGS, main], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TETHER_DB: join(dir, 'tether.db'),
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_WORKERS: WORKERS,
      TETHER_LOG_LEVEL: 'log',
      TETHER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  let token = '';
  while (!token) {
    if (child.exitCode !== null) throw new Error(`the appliance exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the appliance did not answer in 60 s:\n${output}`);
    try {
      token = (
        await api<{ token: string }>(url, '/api/v1/auth/login', {
          method: 'POST',
          body: { username: 'admin', password: ADMIN_PASSWORD },
        })
      ).token;
    } catch {
      await sleep(200);
    }
  }
  return {
    child,
    url,
    token,
    output: () => output,
    stop: async () => {
      await stop(child, 10_000);
      removeDir();
    },
  };
}

interface StatsBody {
  frontends: Array<{ name: string; scur: number }>;
  acceptErrors?: { errors: number; pauses: number; lastCode: string };
  workers?: Array<{
    id: number;
    pid: number;
    state: string;
    sessions: number;
    rssBytes: number;
    restarts: number;
  }>;
}

/** One frontend -> backend of the SERVERS servers, all through the REST API. */
async function configure(app: Appliance, serverPorts: number[], port: number): Promise<void> {
  const config = await api<{ defaults: { maxconn: number } }>(app.url, '/api/v1/config', {
    token: app.token,
  });
  if (config.defaults.maxconn < CONNECTIONS)
    throw new Error(`defaults.maxconn is ${config.defaults.maxconn}, below --connections ${CONNECTIONS}`);
  await api(app.url, '/api/v1/backends', {
    method: 'POST',
    token: app.token,
    body: {
      name: 'cmpp',
      balance: 'roundrobin',
      check: { type: 'none' },
      servers: serverPorts.map((p, i) => ({ name: `s${i + 1}`, address: '127.0.0.1', port: p })),
    },
  });
  await api(app.url, '/api/v1/frontends', {
    method: 'POST',
    token: app.token,
    body: { name: 'fe', bind: { address: '127.0.0.1', port }, backend: 'cmpp', maxconn: MAXCONN },
  });
}

async function untilStats(
  app: Appliance,
  ok: (s: StatsBody) => boolean,
  timeoutMs: number,
  what: string,
): Promise<StatsBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await api<StatsBody>(app.url, '/api/v1/stats', { token: app.token });
    if (ok(stats)) return stats;
    if (Date.now() > deadline)
      throw new Error(`${what} (after ${timeoutMs} ms): ${JSON.stringify(stats).slice(0, 800)}`);
    await sleep(250);
  }
}

// ---- the stats poller: its own process, so the load's sockets don't delay the answers it times ----

function pollStats(url: string, token: string): { stop(): Promise<{ ms: number[]; failures: number }> } {
  const script = `
    const ms = [];
    let failures = 0;
    let on = true;
    process.stdin.on('data', () => (on = false));
    (async () => {
      while (on) {
        const s = performance.now();
        try {
          const res = await fetch(process.argv[1] + '/api/v1/stats', { headers: { authorization: 'Bearer ' + process.argv[2] }, signal: AbortSignal.timeout(10000) });
          await res.arrayBuffer();
          if (res.status === 200) ms.push(performance.now() - s); else failures++;
        } catch { failures++; }
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - s))));
      }
      process.stdout.write(JSON.stringify({ ms, failures }));
      process.exit(0);
    })();`;
  const child = spawn(process.execPath, ['-e', script, url, token], { stdio: ['pipe', 'pipe', 'inherit'] });
  track(child);
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    stop: async () => {
      child.stdin!.write('stop\n');
      const code = await withTimeout(exited, 15_000, 'the stats poller did not stop');
      if (code !== 0) throw new Error(`the stats poller exited with ${code}`);
      return JSON.parse(out) as { ms: number[]; failures: number };
    },
  };
}

// ---- load clients ----

async function startClients(
  total: number,
): Promise<Array<{ child: NodeChild; first: number; count: number }>> {
  const processes = Math.max(1, Math.ceil(total / PER_PROCESS));
  const clients = [];
  for (let p = 0; p < processes; p++) {
    const first = Math.floor((p * total) / processes);
    const count = Math.floor(((p + 1) * total) / processes) - first;
    const child = NodeChild.start(`load client ${p + 1}`, 'capacity-client.ts');
    clients.push({ child, first, count });
  }
  await Promise.all(clients.map((c) => c.child.ready(60_000)));
  return clients;
}

function sumCounts(all: CapacityCounts[]): CapacityCounts {
  const sum: CapacityCounts = {
    established: 0,
    failed: 0,
    dropped: 0,
    heartbeatsSent: 0,
    heartbeatsAnswered: 0,
    badAnswers: 0,
    outstanding: 0,
    errors: {},
  };
  for (const c of all) {
    for (const k of [
      'established',
      'failed',
      'dropped',
      'heartbeatsSent',
      'heartbeatsAnswered',
      'badAnswers',
      'outstanding',
    ] as const)
      sum[k] += c[k];
    for (const [k, v] of Object.entries(c.errors)) sum.errors[k] = (sum.errors[k] ?? 0) + v;
  }
  return sum;
}

type Clients = Awaited<ReturnType<typeof startClients>>;

async function openAll(clients: Clients, port: number, timeoutMs: number): Promise<CapacityCounts> {
  const results = await Promise.all(
    clients.map((c) =>
      c.child.request<CapacityCounts>(
        'open',
        {
          host: '127.0.0.1',
          port,
          first: c.first,
          count: c.count,
          sources: sourceAddresses,
          concurrency: 256,
          timeoutMs: 10_000,
        },
        timeoutMs,
      ),
    ),
  );
  return sumCounts(results);
}

async function allClients(clients: Clients, cmd: string, args?: unknown): Promise<CapacityCounts> {
  const answers = await Promise.all(
    clients.map((c) => c.child.request<CapacityCounts | null>(cmd, args, 60_000)),
  );
  return sumCounts(answers.filter((a): a is CapacityCounts => a !== null));
}

// ---- HAProxy, the same way ----

async function haproxyPerConnection(
  serverPorts: number[],
): Promise<{ rssKbPerConn: number; established: number; answered: boolean; note: string }> {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    return {
      rssKbPerConn: NaN,
      established: 0,
      answered: false,
      note: 'haproxy not installed (apt-get install -y haproxy)',
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'tether-capacity-haproxy-'));
  atCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const maxconn = Math.floor((FD_LIMIT - 20) / 2);
  const cfg = benchHaproxyConfig(port, serverPorts, 1, maxconn);
  writeFileSync(join(dir, 'haproxy.cfg'), cfg);
  const script = `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const child = spawn('sh', ['-c', script, 'haproxy', '-f', join(dir, 'haproxy.cfg'), '-db'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child);
  const tail = stderrTail(child, false);
  const clients = await startClients(HAPROXY_CONNECTIONS);
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`haproxy exited: ${tail()}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (i > 200) throw new Error(`haproxy did not listen: ${tail()}`);
      await sleep(50);
    }
    await sleep(1000);
    const before = rssKb(child.pid!);
    const opened = await openAll(clients, port, RAMP_S * 1000);
    // One heartbeat round on every connection, so each has carried traffic both ways, as in Tether's run.
    await allClients(clients, 'startHeartbeats', { intervalMs: 2000 });
    await sleep(2500);
    await allClients(clients, 'stopHeartbeats');
    const settled = await allClients(clients, 'settle', { timeoutMs: 15_000 });
    await sleep(2000);
    const after = rssKb(child.pid!);
    return {
      rssKbPerConn: (after - before) / opened.established,
      established: opened.established,
      answered:
        settled.heartbeatsSent === settled.heartbeatsAnswered && settled.heartbeatsSent >= opened.established,
      note: `${opened.established} connections, nbthread 1, maxconn ${maxconn} (HAProxy can't start with more under the ${FD_LIMIT}-fd hard limit)`,
    };
  } finally {
    await Promise.all(clients.map((c) => c.child.stop()));
    await stop(child);
  }
}

// ---- the run ----

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let haproxy = 'unavailable';
  try {
    haproxy = execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    // not installed
  }
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${haproxy}, fd hard limit ${execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()}`;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<number> {
  const startedAt = new Date();
  const load0 = os.loadavg()[0];
  console.log(
    `capacity: ${CONNECTIONS} connections from ${SOURCES} sources, ACTIVE_TEST every ${HEARTBEAT_S} s, ` +
      `hold ${MINUTES} min, maxconn ${MAXCONN}, TETHER_WORKERS=${WORKERS}; ${machine()}; load ${load0.toFixed(2)}`,
  );
  const compiled = await compileApp();
  atCleanup(() => compiled.remove());

  // One process per server: Tether's roundrobin gives each exactly a third, so the busiest holds ⌈N / 3⌉
  // (16,667 at 50,000) descriptors, under the 20,000 limit. Sharing sockets between processes was tried: the
  // kernel's spread (SCHED_NONE) or the cluster primary (round-robin) left one process out of descriptors,
  // closing connections the appliance had relayed, a drop that was the bench's own.
  const backendProcesses = SERVERS;
  const backendChildren = Array.from({ length: SERVERS }, (_, i) =>
    NodeChild.start(`backend ${i + 1}`, 'backend-server.ts', { env: { BENCH_SERVER_COUNT: '1' } }),
  );
  const serverPorts = (await Promise.all(backendChildren.map((b) => b.ready(60_000)))).map(
    (info) => (info.ports as number[])[0],
  );
  console.log(`backends: ${SERVERS} servers on ${serverPorts.join(', ')}, one process each`);

  const app = await startAppliance(compiled.main);
  const port = await freePort();
  await configure(app, serverPorts, port);
  const ready = await untilStats(
    app,
    (s) =>
      s.frontends.length === 1 &&
      (s.workers === undefined || (s.workers.length > 0 && s.workers.every((w) => w.state === 'running'))),
    60_000,
    'the workers did not all run',
  );
  const workerCount = ready.workers?.length ?? 0;
  const workersLine =
    app
      .output()
      .match(/workers: \d+[^"\n]*/g)
      ?.pop() ?? `${workerCount} workers`;
  console.log(`appliance: pid ${app.child.pid}, ${workersLine}`);
  await sleep(2000);
  const rssBefore = treeRssKb(app.child.pid!);

  const clients = await startClients(CONNECTIONS);
  console.log(`load: ${clients.length} client processes`);
  const rampStart = Date.now();
  const opened = await openAll(clients, port, RAMP_S * 1000);
  const rampMs = Date.now() - rampStart;
  console.log(
    `ramp: ${opened.established} established, ${opened.failed} failed in ${(rampMs / 1000).toFixed(1)} s ${JSON.stringify(opened.errors)}`,
  );
  const accepted = await untilStats(
    app,
    (s) => (s.frontends[0]?.scur ?? 0) >= opened.established,
    60_000,
    'the appliance did not count every connection',
  ).catch((err: Error) => {
    console.error(err.message);
    return null;
  });

  // The hold: heartbeats staggered over the interval, stats polled once a second, RSS sampled.
  const poller = pollStats(app.url, app.token);
  await allClients(clients, 'startHeartbeats', { intervalMs: HEARTBEAT_S * 1000 });
  const holdEnd = Date.now() + MINUTES * 60_000;
  let rssMax = treeRssKb(app.child.pid!);
  while (Date.now() < holdEnd) {
    await sleep(Math.min(5000, Math.max(0, holdEnd - Date.now())));
    const now = treeRssKb(app.child.pid!);
    if (now.kb > rssMax.kb) rssMax = now;
    const c = await allClients(clients, 'counts');
    console.log(
      `  hold ${Math.round((MINUTES * 60_000 - (holdEnd - Date.now())) / 1000)} s: held ${c.established - c.dropped}, ` +
        `dropped ${c.dropped}, heartbeats ${c.heartbeatsAnswered}/${c.heartbeatsSent}, RSS ${(now.kb / 1024).toFixed(0)} MB`,
    );
  }
  await allClients(clients, 'stopHeartbeats');
  const held = await allClients(clients, 'settle', { timeoutMs: 15_000 });
  const polled = await poller.stop();
  const rssHeld = treeRssKb(app.child.pid!);
  const statsAfter = await api<StatsBody>(app.url, '/api/v1/stats', { token: app.token });
  const applianceLog = app.output();
  const perBackend = await Promise.all(
    backendChildren.map((b) => b.request<{ current: number; badFrames: number }>('stats')),
  );
  const backendStats = {
    current: perBackend.reduce((sum, b) => sum + b.current, 0),
    badFrames: perBackend.reduce((sum, b) => sum + b.badFrames, 0),
    perProcess: perBackend.map((b) => b.current),
  };
  await allClients(clients, 'closeAll');
  await Promise.all(clients.map((c) => c.child.stop()));
  await app.stop();

  const haproxy =
    HAPROXY_CONNECTIONS > 0
      ? await haproxyPerConnection(serverPorts)
      : { rssKbPerConn: NaN, established: 0, answered: false, note: 'skipped (--haproxy-connections 0)' };
  await Promise.all(backendChildren.map((b) => b.stop()));

  // ---- figures and bars ----
  const tetherPerConnKb = (rssHeld.kb - rssBefore.kb) / Math.max(1, held.established);
  const ratio = tetherPerConnKb / haproxy.rssKbPerConn;
  const p50 = percentile(polled.ms, 50);
  const p99 = percentile(polled.ms, 99);
  const bars: Array<[string, boolean, string]> = [
    [
      `connections established = ${CONNECTIONS}`,
      held.established === CONNECTIONS,
      `${held.established} (${held.failed} failed)`,
    ],
    ['dropped = 0', held.dropped === 0, String(held.dropped)],
    [
      'heartbeats answered = sent',
      held.heartbeatsSent > 0 && held.heartbeatsSent === held.heartbeatsAnswered && held.badAnswers === 0,
      `${held.heartbeatsAnswered} / ${held.heartbeatsSent} (bad answers ${held.badAnswers})`,
    ],
    [
      `stats p99 < ${STATS_P99_MS} ms`,
      polled.ms.length > 0 && polled.failures === 0 && p99 < STATS_P99_MS,
      `p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms, max ${fmt(Math.max(...polled.ms), 1)} ms (n=${polled.ms.length}, failed ${polled.failures})`,
    ],
    [
      `RSS per connection ≤ ${RSS_RATIO}× HAProxy`,
      // A negative growth is GC noise at small counts, not a pass.
      Number.isFinite(ratio) && tetherPerConnKb > 0 && ratio <= RSS_RATIO,
      `${fmt(tetherPerConnKb, 2)} KB vs ${fmt(haproxy.rssKbPerConn, 2)} KB = ${fmt(ratio, 2)}×`,
    ],
  ];
  const rows: Array<[string, string]> = [
    ['date', startedAt.toISOString()],
    ['machine', machine()],
    ['load average (start / end)', `${load0.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}`],
    [
      'settings',
      `${CONNECTIONS} connections, ${SOURCES} sources (127.0.0.2–127.0.0.${1 + SOURCES}), ACTIVE_TEST every ${HEARTBEAT_S} s staggered, hold ${MINUTES} min, maxconn ${MAXCONN}, ${SERVERS} servers in ${backendProcesses} processes, ${clients.length} load processes`,
    ],
    [
      'appliance workers',
      `${workersLine}; per worker sessions ${JSON.stringify(statsAfter.workers?.map((w) => w.sessions) ?? [])}, restarts ${statsAfter.workers?.reduce((s, w) => s + w.restarts, 0) ?? 0}`,
    ],
    [
      'ramp-up',
      `${(rampMs / 1000).toFixed(1)} s (${fmt(opened.established / (rampMs / 1000))} connections/s)${accepted ? '' : ', the appliance never counted them all'}`,
    ],
    ['connections established / failed / dropped', `${held.established} / ${held.failed} / ${held.dropped}`],
    [
      'heartbeats sent / answered / outstanding',
      `${held.heartbeatsSent} / ${held.heartbeatsAnswered} / ${held.outstanding}`,
    ],
    [
      'GET /api/v1/stats during the hold',
      `p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms (n=${polled.ms.length}, failed ${polled.failures})`,
    ],
    [
      'appliance RSS (main + workers, /proc)',
      `before ${fmt(rssBefore.kb / 1024)} MB (${rssBefore.processes} processes), held ${fmt(rssHeld.kb / 1024)} MB, max ${fmt(rssMax.kb / 1024)} MB (${rssHeld.processes} processes)`,
    ],
    [
      'RSS per connection (total / growth)',
      `${fmt(rssHeld.kb / Math.max(1, held.established), 2)} KB / ${fmt(tetherPerConnKb, 2)} KB`,
    ],
    [
      'HAProxy RSS growth per connection',
      `${fmt(haproxy.rssKbPerConn, 2)} KB at ${haproxy.note}${haproxy.established && !haproxy.answered ? ' (NOT every heartbeat answered)' : ''}`,
    ],
    [
      'backend connections held (per process)',
      `${backendStats.current} (${JSON.stringify(backendStats.perProcess)}), bad frames ${backendStats.badFrames}`,
    ],
    ['client errors', JSON.stringify(held.errors)],
    ['appliance accept errors (EMFILE/ENFILE)', JSON.stringify(statsAfter.acceptErrors ?? null)],
  ];
  const table = [
    '| measure | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '| bar | result | |',
    '|---|---|---|',
    ...bars.map(([name, ok, value]) => `| ${name} | ${ok ? 'pass' : '**FAIL**'} | ${value} |`),
  ].join('\n');
  console.log(`\n${table}\n`);
  const dir = join(repoRoot, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `capacity-${startedAt.toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, `# npm run bench:capacity\n\n${table}\n`);
  // The appliance's own log (its last 20,000 characters), for what a failed bar needs explained.
  writeFileSync(file.replace(/\.md$/, '.log'), applianceLog);
  console.log(`written ${file} and the appliance's log next to it`);
  if (!existsSync(file)) return 2;
  return bars.every(([, ok]) => ok) ? 0 : 1;
}

main()
  .then((code) => {
    killAll();
    process.exit(code);
  })
  .catch((err: unknown) => {
    console.error(err);
    killAll();
    process.exit(2);
  });
