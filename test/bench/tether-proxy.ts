// Child process: Tether's runtime, alone in its process, driven by a snapshot from the parent.
// The runtime module comes from BENCH_RUNTIME_MODULE (the source under tsx, or its esbuild bundle).
// Session logging is on as in production: one pino JSON line per ended session (BENCH_SESSION_LOG=haproxy: the
// tcplog text line; off: none), written asynchronously to BENCH_SESSION_LOG_FILE (default /dev/null), and also
// sent to BENCH_SESSION_SYSLOG (`<ip>:<port>[,<facility>]`, as TETHER_SYSLOG) when set.
import { pathToFileURL } from 'node:url';
import { SessionLog } from '../../src/logging/session-log.js';
import { parseSyslogTarget } from '../../src/logging/syslog.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import type { ProxyRuntimeApi } from '../../src/runtime/types.js';
import { announce, describe, serve } from './ipc.js';

let runtime: ProxyRuntimeApi;
try {
  const path = process.env.BENCH_RUNTIME_MODULE;
  if (!path) throw new Error('BENCH_RUNTIME_MODULE is not set');
  const mod = (await import(pathToFileURL(path).href)) as { ProxyRuntime: new () => ProxyRuntimeApi };
  runtime = new mod.ProxyRuntime();
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
  apply: (snapshot: Snapshot) => runtime.apply(snapshot),
  stats: () => runtime.stats(),
  close: () => runtime.close(),
});
announce({ execArgv: process.execArgv });
