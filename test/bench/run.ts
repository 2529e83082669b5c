// `npm run bench`: direct vs Tether's runtime vs HAProxy 2.6 (and a bare socket.pipe proxy), each
// in its own process, measured in one run with interleaved rounds. See README.md in this folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { NodeChild, killAll, repoRoot, setScriptArgs } from './children.js';
import { compareInspection, inspectSettings, renderInspection, type InspectComparison } from './inspect.js';
import { describe } from './ipc.js';
import { prepareLauncher } from './launcher.js';
import { compareSessionLogging, loggingEnabled, type LoggingComparison } from './logging.js';
import {
  Bench,
  waitSessionsGone,
  type ConnRateMeasurement,
  type IdleMeasurement,
  type LoadMeasurement,
  type Target,
} from './measure.js';
import { clockTicksPerSecond, rssKb } from './procfs.js';
import {
  MAXCONN,
  NODE_PROXY_FLAGS,
  haproxyMissing,
  haproxyVersion,
  setRuntimeModule,
  startProxy,
  type ProxyName,
  type RunningProxy,
} from './proxies.js';
import { buildBars, buildRows, renderBars, renderMarkdown, renderSpread, renderTable } from './report.js';
import { settings, type TargetName } from './settings.js';
import type { ListenerPathsReport } from '../../src/runtime/types.js';

const log = (line: string) => console.log(line);
const fixed = (v: number | null, d = 0) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(d));

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
    console.error(`watchdog: the run exceeded ${settings.watchdogMs / 1000} s, giving up`);
    killAll();
    process.exit(2);
  }, settings.watchdogMs).unref();
}

async function main(): Promise<void> {
  installCleanup();
  const launcher = await prepareLauncher();
  setScriptArgs(launcher.args);
  setRuntimeModule(launcher.runtimeModule);
  const startedAt = new Date();
  const skipped: Partial<Record<TargetName, string>> = {};
  const environment = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadavgAtStart: loadavg(),
    loadavgAtEnd: [] as number[],
    clockTicks: clockTicksPerSecond(),
    haproxy: haproxyVersion(),
    nodeProxyFlags: NODE_PROXY_FLAGS,
    childMode: launcher.mode,
    maxconn: MAXCONN,
    workers: settings.workers,
  };
  log(`Tether benchmark${settings.quick ? ' (quick mode)' : ''} — ${startedAt.toISOString()}`);
  log(
    `node ${environment.node}, ${environment.cpus} × ${environment.cpuModel}, load average ${environment.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  log(
    `${environment.haproxy}; proxies: ` +
      (settings.workers === 1
        ? 'nbthread 1 / one Node process each'
        : `nbthread ${settings.workers} / ${settings.workers} Node worker processes each (node:cluster SCHED_NONE, one shared listening socket)`) +
      `, Node proxies run with ${NODE_PROXY_FLAGS.join(' ') || 'no flags'}`,
  );
  log(`children: ${launcher.mode}`);
  log(
    `same settings for every proxy: roundrobin over ${settings.backendServers} servers, no health checks, connect 5 s, client/server 1 h, maxconn ${MAXCONN} (HAProxy's ceiling under a 20,000-fd limit)`,
  );
  log(
    `${settings.rounds} interleaved rounds of ${settings.loadMs / 1000} s per load shape; figures are medians over rounds`,
  );

  const missing = haproxyMissing();
  if (missing && settings.targets.includes('haproxy')) skipped.haproxy = missing;

  const backend = NodeChild.start('backend', 'backend-server.ts', {
    env: { BENCH_SERVER_COUNT: String(settings.backendServers) },
  });
  const client = NodeChild.start('load client', 'load-client.ts');
  const [backendInfo] = await Promise.all([backend.ready(), client.ready()]);
  const backendPorts = backendInfo.ports as number[];
  const bench = new Bench(client, backend);

  const targets: Target[] = [];
  const proxies = new Map<ProxyName, RunningProxy>();
  for (const name of settings.targets) {
    if (skipped[name]) continue;
    if (name === 'direct') {
      targets.push({ name, ports: backendPorts });
      continue;
    }
    try {
      const proxy = await startProxy(name, backendPorts);
      proxies.set(name, proxy);
      if (proxy.paths) log(`${name} listener paths: ${describePaths(await proxy.paths())}`);
      targets.push({ name, ports: [proxy.port], pids: proxy.pids, liveSessions: proxy.liveSessions });
    } catch (err) {
      skipped[name] = describe(err);
    }
  }
  for (const [name, reason] of Object.entries(skipped)) log(`!! ${name} not measured: ${reason}`);

  const loads: LoadMeasurement[] = [];
  const connRates: ConnRateMeasurement[] = [];
  const idles: IdleMeasurement[] = [];
  const proxyMemory: Array<{
    target: TargetName;
    round: number;
    rssKb: number;
    sessionsLeft: number | null;
  }> = [];
  const failures: Array<{ target: string; phase: string; round: number; error: string }> = [];
  const attempt = async <T>(target: string, phase: string, round: number, run: () => Promise<T>) => {
    try {
      return await run();
    } catch (err) {
      failures.push({ target, phase, round, error: describe(err) });
      log(`!! ${target} ${phase} round ${round}: ${describe(err)}`);
      await bench.waitBackendIdle().catch(() => undefined);
      return undefined;
    }
  };

  log('\nwarming up each target …');
  for (const target of targets) {
    await attempt(target.name, 'warm-up', 0, () => bench.load(target, 0, settings.busy, settings.warmupMs));
  }

  const shapes = [settings.busy, settings.light];
  for (let round = 1; round <= settings.rounds; round++) {
    log(`\nround ${round}/${settings.rounds}`);
    for (const target of targets) {
      for (const shape of shapes) {
        const m = await attempt(target.name, `load ${shape.connections}×${shape.inflight}`, round, () =>
          bench.load(target, round, shape, settings.loadMs),
        );
        if (!m) continue;
        loads.push(m);
        const errors = Object.keys(m.errors).length ? ` ERRORS ${JSON.stringify(m.errors)}` : '';
        log(
          `  ${target.name.padEnd(8)} ${String(shape.connections).padStart(3)}×${String(shape.inflight).padEnd(2)} ` +
            `${fixed(m.rate).padStart(7)} msg/s  p50 ${fixed(m.p50Us).padStart(6)} µs  p99 ${fixed(m.p99Us).padStart(6)} µs  ` +
            `proxy ${fixed(m.proxyCpuUsPerMessage, 2).padStart(5)} µs/msg (${fixed(m.proxyCpuPercent)} %)  client ${fixed(m.clientCpuPercent)} %${errors}`,
        );
      }
      const c = await attempt(target.name, 'new connections', round, () => bench.connRate(target, round));
      if (c) {
        connRates.push(c);
        const errors = Object.keys(c.errors).length ? ` ERRORS ${JSON.stringify(c.errors)}` : '';
        log(
          `  ${target.name.padEnd(8)} new conn ${fixed(c.rate).padStart(7)} conn/s  p50 ${fixed(c.p50Us).padStart(6)} µs  ` +
            `proxy ${fixed(c.proxyCpuUsPerConnection, 1)} µs/conn${errors}`,
        );
      }
      await bench.waitBackendIdle();
    }
    // Memory of the long-lived proxies after each round: steady growth round over round hints at a leak.
    const memory: string[] = [];
    for (const target of targets) {
      if (!target.pids) continue;
      const sample = {
        target: target.name,
        round,
        rssKb: rssKb(target.pids),
        sessionsLeft: null as number | null,
      };
      if (target.liveSessions)
        sample.sessionsLeft = await waitSessionsGone(target.liveSessions).catch(() => -1);
      proxyMemory.push(sample);
      memory.push(
        `${target.name} ${(sample.rssKb / 1024).toFixed(1)} MB` +
          (sample.sessionsLeft === null ? '' : ` (${sample.sessionsLeft} sessions left)`),
      );
    }
    log(`  proxy RSS after the round: ${memory.join(', ')}`);
  }

  for (const proxy of proxies.values()) await proxy.stop();
  proxies.clear();

  // Judged with worker processes first (inspect.ts), then with one process each.
  const inspections: InspectComparison[] = [];
  if (inspectSettings.enabled)
    for (const workers of inspectSettings.workers) {
      const inspection = await attempt('tether', `inspect ${workers}`, 0, () =>
        compareInspection(bench, backendPorts, launcher.runtimeModule, log, workers),
      );
      if (inspection) inspections.push(inspection);
    }

  const idleTargets = targets.map((t) => t.name).filter((n): n is ProxyName => n !== 'direct');
  log(
    `\nidle connections: ${settings.idle.connections} per proxy from 40 source IPs, fresh proxy process each round`,
  );
  for (let round = 1; round <= settings.idle.rounds; round++) {
    for (const name of idleTargets) {
      const m = await attempt(name, 'idle', round, () => bench.idle(name, backendPorts, round));
      if (!m) continue;
      idles.push(m);
      const short =
        m.established < m.requested ||
        m.openAtMeasure < m.established ||
        m.backendConnections < m.established;
      log(
        `  ${name.padEnd(8)} round ${round}: ${m.established}/${m.requested} held (backends saw ${m.backendConnections}), ` +
          `RSS ${(m.rssBeforeKb / 1024).toFixed(1)} → ${(m.rssAfterKb / 1024).toFixed(1)} MB = ${m.kbPerConnection.toFixed(2)} KB/conn` +
          (m.sessionsLeftAfterClose
            ? `  !! ${m.sessionsLeftAfterClose} sessions left after all closed`
            : '') +
          (short ? `  !! not all connections held ${JSON.stringify(m.errors)}` : ''),
      );
    }
  }

  // The session log's cost, Tether against itself (logging.ts; BENCH_LOGGING=off skips it).
  let sessionLogging: LoggingComparison | undefined;
  if (loggingEnabled() && settings.targets.includes('tether') && !skipped.tether) {
    sessionLogging = await attempt('tether', 'session log', 0, () =>
      compareSessionLogging(bench, backendPorts, log),
    );
  }

  environment.loadavgAtEnd = loadavg();
  const names = settings.targets.filter((t) => !skipped[t]);
  const rows = buildRows(loads, connRates, idles, names, shapes);
  const bars = buildBars(rows, settings.busy.inflight, settings.workers);
  const spreadLabels = [
    'proxy CPU per message (µs)',
    'proxy RSS growth per connection (KB)',
    'messages/s',
    'proxy CPU per connection (µs)',
  ];

  log('\n' + renderTable(rows, names));
  log('\nper round (spread):');
  log(renderSpread(rows, spreadLabels, names));
  log('\nissue 10 bars:');
  log(renderBars(bars));
  if (inspections.length > 0)
    log(
      '\nCMPP inspection cost (issue 11; the bar is judged on the first, with workers):\n' +
        inspections.map(renderInspection).join('\n\n'),
    );
  if (Object.keys(skipped).length) {
    log('\nnot measured:');
    for (const [name, reason] of Object.entries(skipped)) log(`  ${name}: ${reason}`);
  }
  const errorRounds = [...loads, ...connRates].filter((m) => Object.keys(m.errors).length > 0);
  if (errorRounds.length || failures.length) {
    log(
      `\n!! ${errorRounds.length} measurement(s) saw client errors and ${failures.length} failed; see the JSON`,
    );
  }
  log(
    `\nnotes: "proxy CPU" is Δ(utime+stime) of the proxy process from /proc/<pid>/stat (all threads, ${environment.clockTicks} ticks/s) over the measured window, per SUBMIT round trip (the SUBMIT and its SUBMIT_RESP);` +
      ` "pipe" is a bare socket.pipe relay (the issue's baseline) with the same Node flags as Tether.` +
      ` Load average ${environment.loadavgAtStart[0].toFixed(2)} at start, ${environment.loadavgAtEnd[0].toFixed(2)} at end: on a busy machine read ratios, not absolute values.`,
  );

  const dir = join(repoRoot, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt,
        finishedAt: new Date(),
        settings,
        environment,
        skipped,
        bars,
        summary: rows,
        loads,
        connRates,
        idles,
        proxyMemory,
        sessionLogging,
        inspections,
        failures,
      },
      null,
      2,
    ),
  );
  const markdown = file.replace(/\.json$/, '.md');
  writeFileSync(
    markdown,
    `# Benchmark ${startedAt.toISOString()}\n\n` +
      renderMarkdown({
        startedAt,
        machine: {
          cpuModel: environment.cpuModel,
          cpus: environment.cpus,
          node: environment.node,
          haproxy: environment.haproxy,
          nodeFlags: NODE_PROXY_FLAGS,
        },
        workers: settings.workers,
        rounds: settings.rounds,
        loadavg: { start: environment.loadavgAtStart[0], end: environment.loadavgAtEnd[0] },
        rows,
        targets: names,
        bars,
        spreadLabels,
      }),
  );
  log(`\nresults written to ${file} and ${markdown}`);

  await Promise.all([client.stop(), backend.stop()]);
}

function describePaths(paths: ListenerPathsReport | ListenerPathsReport[]): string {
  const list = Array.isArray(paths) ? paths : [paths];
  return list
    .map(
      (p) =>
        `pause=${p.pause}, accept=${p.accept}, write=${p.write}${p.write === 'handle' ? '' : ` (${p.writeReason})`}`,
    )
    .join(' | ');
}

main()
  .then(() => {
    killAll();
    process.exit(0);
  })
  .catch((err: unknown) => {
    console.error('benchmark failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    killAll();
    process.exit(1);
  });
