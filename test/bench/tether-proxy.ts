// Child process: Tether's runtime, alone in its process, driven by a snapshot from the parent.
// The runtime module comes from BENCH_RUNTIME_MODULE (the source under tsx, or its esbuild bundle).
// Session logging is on as in production: one pino JSON line per ended session (BENCH_SESSION_LOG=haproxy: the
// tcplog text line; off: none), written asynchronously to BENCH_SESSION_LOG_FILE (default /dev/null), and also
// sent to BENCH_SESSION_SYSLOG (`<ip>:<port>[,<facility>]`, as TETHER_SYSLOG) when set.
// With BENCH_PROXY_WORKERS=N > 1 this process is a cluster primary and N copies of it each run a runtime
// on the shared listener (workers.ts).
import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import { SessionLog } from '../../src/logging/session-log.js';
import { parseSyslogTarget } from '../../src/logging/syslog.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import type { ProxyRuntimeApi } from '../../src/runtime/types.js';
import { announce, describe, serve } from './ipc.js';
import { isWorkerPrimary, runWorkerPrimary } from './workers.js';

async function runRuntime(): Promise<void> {
  let runtime: ProxyRuntimeApi;
  try {
    const path = process.env.BENCH_RUNTIME_MODULE;
    if (!path) throw new Error('BENCH_RUNTIME_MODULE is not set');
    const mod = (await import(pathToFileURL(path).href)) as {
      ProxyRuntime: new (options?: { sharedListeners?: boolean }) => ProxyRuntimeApi;
    };
    // A cluster worker listens on the primary's shared socket (the workers' runtime option).
    runtime = new mod.ProxyRuntime({ sharedListeners: cluster.isWorker });
    const format = process.env.BENCH_SESSION_LOG ?? 'json';
    if (format !== 'off') {
      if (format !== 'json' && format !== 'haproxy')
        throw new Error(`BENCH_SESSION_LOG: json, haproxy or off, got ${format}`);
      const syslog = process.env.BENCH_SESSION_SYSLOG;
      const log = new SessionLog({
        format,
        destination: process.env.BENCH_SESSION_LOG_FILE || '/dev/null',
        syslog: syslog ? parseSyslogTarget(syslog) : undefined,
      });
      runtime.onSessionEnd((record) => log.write(record));
    }
  } catch (err) {
    console.error(`tether runtime unavailable: ${describe(err)}`);
    process.exit(3);
  }
  serve({
    apply: async (snapshot: Snapshot) => {
      const result = await runtime.apply(snapshot);
      const notOpen = (await runtime.stats()).frontends.filter((f) => f.status !== 'OPEN');
      if (notOpen.length > 0)
        throw new Error(
          `frontend ${notOpen.map((f) => `${f.name} ${f.status}`).join(', ')}` +
            (cluster.isWorker ? ' in a worker: does this runtime have the sharedListeners option?' : ''),
        );
      return result;
    },
    // Live sessions: scur summed over frontends.
    sessions: async () => (await runtime.stats()).frontends.reduce((sum, f) => sum + f.scur, 0),
    paths: () => runtime.listenerPaths(),
    // What CMPP inspection counted (inspect.ts): proof the inspecting proxy inspected its load.
    cmpp: async () => (await runtime.stats()).frontends[0]?.cmpp ?? null,
    close: () => runtime.close(),
  });
  announce({ execArgv: process.execArgv, pids: [process.pid] });
}

if (isWorkerPrimary()) await runWorkerPrimary(['apply', 'sessions', 'paths', 'cmpp', 'close']);
else await runRuntime();
