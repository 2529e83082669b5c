// `npm run bench:storm`: issue 10's reconnect storm, Tether (the compiled appliance with TETHER_WORKERS=N,
// configured over REST) vs HAProxy 2.6 `nbthread N`. See README.md in this folder, "Reconnect storm".
// Flags: --clients 9000 --rounds 3 --workers 2.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileApp, startAppliance, type ApplianceProcess } from '../helpers/compiled-app.js';
import { freePort } from '../helpers/net.js';
import {
  FD_LIMIT,
  NodeChild,
  atCleanup,
  killAll,
  repoRoot,
  sleep,
  spawnWithFdLimit,
  stderrTail,
  stop,
  track,
} from './children.js';
import { cpuMsOf, processTree } from './procfs.js';
import { haproxyMissing, haproxyVersion } from './proxies.js';

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${line}`);

function flag(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return value;
}

const CLIENTS = flag('clients', 9000);
const ROUNDS = flag('rounds', 3);
const WORKERS = flag('workers', 2);
const SERVERS = 3;
/**
 * `--haproxy-redispatch`: HAProxy also gets `retries 1` + `option redispatch`, which is what Tether does on a failed
 * connect (one retry, on another server when there is one: src/runtime/dispatch.ts, docs/haproxy-import.md) but its
 * export of the same config does not say. Without it HAProxy retries the dead server 3 times, 1 s apart.
 */
const REDISPATCH = process.argv.includes('--haproxy-redispatch');
/**
 * `--profile DIR`: the appliance's processes (main, workers) run with `--cpu-prof --cpu-prof-dir DIR`, each
 * writing a .cpuprofile when it exits (open them in Chrome's DevTools or summarise with test/bench/profile-top.ts).
 */
const PROFILE_DIR = (() => {
  const i = process.argv.indexOf('--profile');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
/** Load-client processes: each holds CLIENTS / LOADERS sockets, far below its fd limit (15,000 asked). */
const LOADERS = Math.max(3, Math.ceil(CLIENTS / 5000));
/** Source addresses per load process (127.0.0.X); ~100 clients per source. */
const SOURCES_PER_LOADER = Math.max(1, Math.min(80, Math.ceil(CLIENTS / LOADERS / 100)));
/** The proxies' limit: HAProxy refuses more than its fds allow (see proxies.ts). */
/** The proxies' maxconn (`--maxconn`, default 9,980: HAProxy checks it fits 20,000 fds with its stats socket). */
const MAXCONN = flag('maxconn', Math.floor((FD_LIMIT - 40) / 2));
/** A storm that has not settled in this time is reported as such. */
const STORM_TIMEOUT_MS = 60_000;
const CHECK = { inter: 1000, fall: 2, rise: 1 };
const ADMIN_PASSWORD = 'storm-bench-admin-password-0123';

type ProxyName = 'tether' | 'haproxy';

interface Proxy {
  name: ProxyName;
  port: number;
  /** Its processes (Tether: the main process, the workers and the spare), for the CPU they use in a storm. */
  pids(): number[];
  /** true once every server is seen UP by the proxy (Tether: its stats; HAProxy: after 2 check intervals). */
  allUp(): Promise<boolean>;
  stop(): Promise<void>;
}

interface Backend {
  port: number;
  child: NodeChild;
}

interface RoundResult {
  proxy: ProxyName;
  round: number;
  killedShare: number;
  affected: number;
  recovered: number;
  stormMs: number | null;
  downtimeP50: number;
  downtimeP99: number;
  attempts: number;
  failures: number;
  recut: number;
  setupMs: number;
  /** CPU ms the proxy's processes, and the bench's own (load clients, servers), used from the kill to all back;
   *  for Tether also its main process's part (the rest is the workers'). */
  proxyCpuMs: number;
  mainCpuMs: number;
  benchCpuMs: number;
}

function installCleanup(): void {
  const bail = (signal: string) => {
    console.error(`\n${signal}: stopping every child process`);
    killAll();
    process.exit(130);
  };
  process.once('SIGINT', () => bail('SIGINT'));
  process.once('SIGTERM', () => bail('SIGTERM'));
  process.once('exit', () => killAll());
  setTimeout(() => {
    console.error('watchdog: the storm run exceeded 30 minutes, giving up');
    killAll();
    process.exit(2);
  }, 30 * 60_000).unref();
}

async function startBackend(port = 0): Promise<Backend> {
  const child = NodeChild.start(`backend ${port || ''}`.trim(), 'storm-backend.ts', {
    env: { BENCH_STORM_PORT: String(port) },
  });
  const info = await child.ready();
  return { port: info.port as number, child };
}

function backendSnapshot(port: number, serverPorts: number[]) {
  return {
    defaults: {
      maxconn: MAXCONN,
      timeouts: { connect: 5000, client: 3_600_000, server: 3_600_000, check: 5000 },
    },
    frontends: [{ name: 'storm', bind: { address: '127.0.0.1', port }, backend: 'cmpp' }],
    backends: [
      {
        name: 'cmpp',
        balance: 'roundrobin',
        check: { type: 'tcp', ...CHECK },
        onMarkedDown: 'shutdown-sessions',
        servers: serverPorts.map((p, i) => ({
          name: `s${i + 1}`,
          address: '127.0.0.1',
          port: p,
          check: true,
        })),
      },
    ],
  };
}

export function stormHaproxyConfig(port: number, serverPorts: number[], statsSocket: string): string {
  return [
    'global',
    `  stats socket ${statsSocket} mode 600 level user`,
    `  nbthread ${WORKERS}`,
    `  maxconn ${MAXCONN}`,
    'defaults',
    '  mode tcp',
    `  maxconn ${MAXCONN}`,
    '  timeout connect 5s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout check 5s',
    'frontend storm',
    `  bind 127.0.0.1:${port}`,
    '  default_backend cmpp',
    'backend cmpp',
    '  balance roundrobin',
    ...(REDISPATCH ? ['  retries 1', '  option redispatch'] : []),
    `  default-server inter ${CHECK.inter}ms fall ${CHECK.fall} rise ${CHECK.rise} on-marked-down shutdown-sessions`,
    ...serverPorts.map((p, i) => `  server s${i + 1} 127.0.0.1:${p} check`),
    '',
  ].join('\n');
}

async function startTether(serverPorts: number[]): Promise<Proxy & { appliance: ApplianceProcess }> {
  const compiled = await compileApp();
  atCleanup(() => compiled.remove());
  const dir = mkdtempSync(join(tmpdir(), 'tether-storm-'));
  atCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const httpPort = await freePort();
  const port = await freePort();
  const appliance = startAppliance(
    compiled.main,
    {
      TETHER_DB: join(dir, 'tether.db'),
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_HTTP_HOST: '127.0.0.1',
      TETHER_LOG_LEVEL: 'log',
      TETHER_WORKERS: String(WORKERS),
      TETHER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
    {
      openFiles: FD_LIMIT,
      nodeArgs: PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`],
    },
  );
  track(appliance.child);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  while (!appliance.output().includes('API docs')) {
    if (appliance.child.exitCode !== null) throw new Error(`the appliance exited:\n${appliance.output()}`);
    if (Date.now() > deadline) throw new Error(`the appliance did not start:\n${appliance.output()}`);
    await sleep(100);
  }
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text;
  };
  await api('PUT', '/api/v1/config', backendSnapshot(port, serverPorts));
  exportedHaproxyCfg = await api('GET', '/api/v1/export/haproxy.cfg').catch((e) => `(export failed: ${e})`);
  const allUp = async () => {
    const stats = JSON.parse(await api('GET', '/api/v1/stats')) as {
      backends: Array<{ servers: Array<{ status?: string; health?: string }> }>;
      workers?: Array<{ state: string }>;
    };
    const servers = stats.backends.flatMap((b) => b.servers);
    const running = (stats.workers ?? []).filter((w) => w.state === 'running').length;
    return running === WORKERS && servers.length === SERVERS && servers.every((s) => s.status === 'UP');
  };
  tetherStats = async () => api('GET', '/api/v1/stats');
  return {
    name: 'tether',
    port,
    appliance,
    pids: () => processTree(appliance.child.pid!),
    allUp,
    stop: () => stop(appliance.child, 5000),
  };
}

let exportedHaproxyCfg = '';
let tetherStats: () => Promise<string> = async () => '';

async function startHaproxy(serverPorts: number[]): Promise<Proxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tether-storm-haproxy-'));
  atCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'haproxy.cfg');
  const socketPath = join(dir, 'stats.sock');
  writeFileSync(cfg, stormHaproxyConfig(port, serverPorts, socketPath));
  const child = spawnWithFdLimit('haproxy', ['-f', cfg, '-db'], { ipc: false });
  const tail = stderrTail(child, false);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${tail()}`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) throw new Error(`haproxy does not listen: ${tail()}`);
    await sleep(50);
  }
  return {
    name: 'haproxy',
    port,
    pids: () => [child.pid!],
    // Its stats socket (`show stat`, CSV: column 18 is status).
    allUp: async () => {
      const csv = await unixRequest(socketPath, 'show stat\n');
      const servers = csv.split('\n').filter((l) => l.startsWith('cmpp,s'));
      return servers.length === SERVERS && servers.every((l) => l.split(',')[17] === 'UP');
    },
    stop: () => stop(child),
  };
}

async function unixRequest(path: string, request: string): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    let out = '';
    const s = net.connect({ path }, () => s.end(request));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => resolve(''));
    s.on('close', () => resolve(out));
  });
}

async function accepts(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values: number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

type LoaderStats = {
  clients: number;
  ready: number;
  affected: number;
  recovered: number;
  attempts: number;
  failures: number;
  recut: number;
  lastRecoveredAt: number;
  downtimes: number[];
};

async function sum(loaders: NodeChild[]): Promise<LoaderStats> {
  const all = await Promise.all(loaders.map((l) => l.request<LoaderStats>('stats')));
  const total: LoaderStats = {
    clients: 0,
    ready: 0,
    affected: 0,
    recovered: 0,
    attempts: 0,
    failures: 0,
    recut: 0,
    lastRecoveredAt: 0,
    downtimes: [],
  };
  for (const s of all) {
    for (const k of ['clients', 'ready', 'affected', 'recovered', 'attempts', 'failures', 'recut'] as const)
      total[k] += s[k];
    total.lastRecoveredAt = Math.max(total.lastRecoveredAt, s.lastRecoveredAt);
    total.downtimes.push(...s.downtimes);
  }
  return total;
}

async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function dumpTether(why: string): Promise<void> {
  // What the appliance says about itself while some clients are not back (for the report).
  const stats = JSON.parse(await tetherStats()) as Record<string, unknown> & {
    frontends: Array<Record<string, unknown>>;
    backends: Array<{ servers: Array<Record<string, unknown>> }>;
  };
  const fe = stats.frontends.map(({ name, scur, slim, status, ereq, dreq }) => ({
    name,
    scur,
    slim,
    status,
    ereq,
    dreq,
  }));
  const servers = stats.backends[0]?.servers.map(({ name, status, scur, econ, wretr, wredis }) => ({
    name,
    status,
    scur,
    econ,
    wretr,
    wredis,
  }));
  log(
    `  ${why}: tether workers ${JSON.stringify(stats.workers)} acceptErrors ${JSON.stringify(stats.acceptErrors)}`,
  );
  log(`  frontends ${JSON.stringify(fe)} servers ${JSON.stringify(servers)}`);
}

async function runRound(
  proxy: Proxy,
  round: number,
  backends: Backend[],
  loaders: NodeChild[],
): Promise<RoundResult> {
  await waitFor(`${proxy.name}: every server UP`, 30_000, () => proxy.allUp());
  const t0 = Date.now();
  const perLoader = loaders.map(
    (_, i) => Math.floor(CLIENTS / loaders.length) + (i < CLIENTS % loaders.length ? 1 : 0),
  );
  await Promise.all(
    loaders.map((l, i) =>
      l.request(
        'open',
        {
          port: proxy.port,
          count: perLoader[i],
          sources: Array.from(
            { length: SOURCES_PER_LOADER },
            (_, k) => `127.0.0.${2 + i * SOURCES_PER_LOADER + k}`,
          ),
        },
        180_000,
      ),
    ),
  );
  const setupMs = Date.now() - t0;
  const held = await Promise.all(
    backends.map((b) => b.child.request<{ current: number }>('stats').then((s) => s.current)),
  );
  log(
    `${proxy.name} round ${round}: ${CLIENTS} clients ready in ${setupMs} ms; per server ${held.join(' / ')}`,
  );
  if (proxy.name === 'tether') {
    await sleep(600); // workers report their sessions every 250 ms
    const stats = JSON.parse(await tetherStats()) as { workers?: Array<{ sessions: number }> };
    log(`  tether workers' sessions: ${(stats.workers ?? []).map((w) => w.sessions).join(' / ')}`);
  }
  const victim = held.indexOf(Math.max(...held));
  await Promise.all(loaders.map((l) => l.request('arm')));
  await sleep(200);
  const proxyPids = proxy.pids();
  const benchPids = [
    ...loaders.map((l) => l.pid),
    ...backends.filter((_, i) => i !== victim).map((b) => b.child.pid),
  ];
  const cpuBefore = cpuMsOf([...proxyPids, ...benchPids]);
  const killedAt = Date.now();
  backends[victim].child.process.kill('SIGKILL');
  let settled: LoaderStats | null = null;
  let last: LoaderStats;
  let dumped = false;
  for (;;) {
    await sleep(100);
    last = await sum(loaders);
    const done = last.affected > 0 && last.recovered === last.affected && last.ready === last.clients;
    if (done && settled && settled.recovered === last.recovered && Date.now() - last.lastRecoveredAt >= 300)
      break;
    settled = done ? last : null;
    if (Date.now() - killedAt > STORM_TIMEOUT_MS) break;
    if (proxy.name === 'tether' && !dumped && Date.now() - killedAt > 10_000) {
      dumped = true;
      log(
        `  after 10 s: ${last.affected - last.recovered} clients not back, ${last.failures} failed attempts`,
      );
      await dumpTether('after 10 s');
    }
  }
  const cpuAfter = cpuMsOf([...proxyPids, ...benchPids]);
  const used = (pids: number[]) =>
    pids.reduce((sum, pid) => sum + (cpuAfter.get(pid) ?? 0) - (cpuBefore.get(pid) ?? 0), 0);
  const finished = last.recovered === last.affected && last.ready === last.clients;
  if (!finished && proxy.name === 'tether') await dumpTether('NOT SETTLED');
  const sorted = last.downtimes.sort((a, b) => a - b);
  const result: RoundResult = {
    proxy: proxy.name,
    round,
    killedShare: held[victim],
    affected: last.affected,
    recovered: last.recovered,
    stormMs: finished ? last.lastRecoveredAt - killedAt : null,
    downtimeP50: percentile(sorted, 50),
    downtimeP99: percentile(sorted, 99),
    attempts: last.attempts,
    failures: last.failures,
    recut: last.recut,
    setupMs,
    proxyCpuMs: Math.round(used(proxyPids)),
    mainCpuMs: proxy.name === 'tether' ? Math.round(used(proxyPids.slice(0, 1))) : 0,
    benchCpuMs: Math.round(used(benchPids)),
  };
  log(
    `  killed s${victim + 1} (${held[victim]} sessions): ${result.affected} affected, ${result.recovered} recovered, ` +
      `all back after ${result.stormMs ?? 'NOT SETTLED'} ms (per client p50 ${result.downtimeP50} ms, p99 ${result.downtimeP99} ms), ` +
      `${result.attempts} attempts, ${result.failures} failed, ${result.recut} cut again; CPU ${result.proxyCpuMs} ms ${proxy.name}${proxy.name === 'tether' ? ` (main process ${result.mainCpuMs})` : ''}, ${result.benchCpuMs} ms load clients + servers`,
  );
  // Between rounds: every client closes, the killed server comes back on its port and is seen UP again.
  await Promise.all(loaders.map((l) => l.request('close')));
  await waitFor('backends drained', 30_000, async () => {
    const cur = await Promise.all(
      backends.map((b, i) =>
        i === victim ? 0 : b.child.request<{ current: number }>('stats').then((s) => s.current),
      ),
    );
    return cur.every((c) => c === 0);
  });
  backends[victim] = await startBackend(backends[victim].port);
  return result;
}

function table(results: RoundResult[]): string {
  const lines = [
    '| proxy | round | killed server held | clients affected | recovered | all reconnected + answered (ms) | per client p50 / p99 (ms) | attempts | failed attempts | cut again | proxy CPU (ms) | load clients + servers CPU (ms) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results)
    lines.push(
      `| ${r.proxy} | ${r.round} | ${r.killedShare} | ${r.affected} | ${r.recovered} | ${r.stormMs ?? 'not settled'} | ${r.downtimeP50} / ${r.downtimeP99} | ${r.attempts} | ${r.failures} | ${r.recut} | ${r.proxyCpuMs} | ${r.benchCpuMs} |`,
    );
  return lines.join('\n');
}

function summary(results: RoundResult[]): { text: string; ratio: number } {
  const of = (p: ProxyName) => results.filter((r) => r.proxy === p);
  const line = (p: ProxyName) => {
    // A round that never settled counts as the slowest, not as missing.
    const t = of(p).map((r) => r.stormMs ?? Infinity);
    const ok = t.filter(Number.isFinite);
    return `| ${p} | ${median(t).toFixed(0)} | ${ok.length ? Math.min(...ok) : '—'}–${ok.length ? Math.max(...ok) : '—'} | ${ok.length}/${t.length} | ${median(of(p).map((r) => r.affected)).toFixed(0)} | ${median(of(p).map((r) => r.attempts)).toFixed(0)} | ${median(of(p).map((r) => r.failures)).toFixed(0)} |`;
  };
  const ratio =
    median(of('tether').map((r) => r.stormMs ?? Infinity)) /
    median(of('haproxy').map((r) => r.stormMs ?? Infinity));
  const allSettled = results.every((r) => r.stormMs !== null);
  const text = [
    '| proxy | median all-back time (ms) | spread min–max (ms) | rounds settled | clients affected (median) | attempts (median) | failed attempts (median) |',
    '|---|---|---|---|---|---|---|',
    line('tether'),
    line('haproxy'),
    '',
    `Tether / HAProxy (medians): **${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}×** (bar: ≤ 1.2×) — ${Number.isFinite(ratio) && ratio <= 1.2 && allSettled ? 'met' : 'NOT met'}${allSettled ? '' : ' (a round never settled: some clients were not back within 60 s)'}`,
  ].join('\n');
  return { text, ratio };
}

async function main(): Promise<void> {
  installCleanup();
  const missing = haproxyMissing();
  if (missing) throw new Error(missing);
  const startedAt = new Date();
  const env = `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${haproxyVersion()}`;
  log(
    `reconnect storm — ${CLIENTS} clients, ${ROUNDS} rounds, ${WORKERS} workers / nbthread ${WORKERS}, ${LOADERS} load processes × ${SOURCES_PER_LOADER} sources`,
  );
  log(
    `${env}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const backends: Backend[] = [];
  for (let i = 0; i < SERVERS; i++) backends.push(await startBackend());
  const ports = backends.map((b) => b.port);
  const loaders = Array.from({ length: LOADERS }, (_, i) =>
    NodeChild.start(`load ${i + 1}`, 'storm-client.ts'),
  );
  await Promise.all(loaders.map((l) => l.ready()));
  const tether = await startTether(ports);
  const haproxy = await startHaproxy(ports);
  log(`tether: appliance on :${tether.port}; haproxy on :${haproxy.port}; servers ${ports.join(', ')}`);
  const results: RoundResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? [tether, haproxy] : [haproxy, tether];
    for (const proxy of order) results.push(await runRound(proxy, round, backends, loaders));
  }
  const loadAtEnd = loadavg();
  const { text, ratio } = summary(results);
  console.log(`\n${table(results)}\n\n${text}\n`);
  const md = [
    `# Reconnect storm ${startedAt.toISOString()}`,
    '',
    `${CLIENTS} clients (${LOADERS} load processes, ${LOADERS * SOURCES_PER_LOADER} sources 127.0.0.2+), 3 servers, roundrobin, ` +
      `check inter ${CHECK.inter} ms fall ${CHECK.fall} rise ${CHECK.rise}, on-marked-down shutdown-sessions; ` +
      `Tether: compiled appliance, TETHER_WORKERS=${WORKERS}, configured over REST; HAProxy: nbthread ${WORKERS}` +
      `${REDISPATCH ? ' with `retries 1` + `option redispatch` (--haproxy-redispatch)' : ' (no `option redispatch`, as Tether exports it)'}. ` +
      'A client reconnects 0–200 ms after its connection closes and retries every 200 ms; ' +
      '"all reconnected" = from the kill -9 until the last affected client had a SUBMIT answered.',
    '',
    `Machine: ${env}; load average start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    table(results),
    '',
    text,
    '',
    "<details><summary>Tether's own export of this config (GET /api/v1/export/haproxy.cfg)</summary>",
    '',
    '```',
    exportedHaproxyCfg.trim(),
    '```',
    '</details>',
    '',
  ].join('\n');
  const dir = join(repoRoot, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `storm-${startedAt.toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, md);
  log(`wrote ${file}; ratio ${ratio.toFixed(2)}`);
  await Promise.all(loaders.map((l) => l.stop()));
  await tether.stop();
  await haproxy.stop();
  for (const b of backends) await b.child.stop();
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    killAll();
    process.exit(1);
  },
);
