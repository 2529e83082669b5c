// Child process: Tether's runtime, alone in its process, driven by a snapshot from the parent.
// The runtime module comes from BENCH_RUNTIME_MODULE (the source under tsx, or its esbuild bundle).
import { pathToFileURL } from 'node:url';
import type { Snapshot } from '../../src/schema/snapshot.js';
import type { ProxyRuntimeApi } from '../../src/runtime/types.js';
import { announce, describe, serve } from './ipc.js';

let runtime: ProxyRuntimeApi;
try {
  const path = process.env.BENCH_RUNTIME_MODULE;
  if (!path) throw new Error('BENCH_RUNTIME_MODULE is not set');
  const mod = (await import(pathToFileURL(path).href)) as { ProxyRuntime: new () => ProxyRuntimeApi };
  runtime = new mod.ProxyRuntime();
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
