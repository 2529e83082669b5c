// A worker process: the existing ProxyRuntime, driven over IPC by the main process's WorkerPool
// (docs/workers.md). Listeners share the cluster primary's sockets; health comes from the main
// process; counts, events and session ends go back as plain data.
import cluster from 'node:cluster';
import { RuntimeError } from '../runtime/errors.js';
import { ProxyRuntime } from '../runtime/runtime.js';
import { RemoteLoginGate } from './login-gate-client.js';
import type { ApplyOptions, ProxyRuntimeApi, SessionEndRecord } from '../runtime/types.js';
import type { Snapshot } from '../schema/snapshot.js';
import {
  REPORT_INTERVAL_MS,
  SESSION_END_BATCH,
  SHARE_RETRY_MAX_MS,
  SHARE_RETRY_MS,
  SESSION_END_FLUSH_MS,
  type FromWorker,
  type ToWorker,
  type WireError,
} from './protocol.js';

if (cluster.isPrimary || typeof process.send !== 'function') {
  throw new Error('worker-main runs only as a cluster worker started by the WorkerPool');
}

const send = (message: FromWorker): void => {
  if (process.connected) process.send!(message);
};

// Logins on backends with CMPP limits are admitted by the main process, which owns the counts of every worker.
const loginGate = new RemoteLoginGate((message) => {
  if (!process.connected) return false;
  process.send!(message);
  return true;
});

const runtime = new ProxyRuntime({
  sharedListeners: true,
  checks: 'external',
  loginGate,
  nodeInternals: process.env.TETHER_NODE_INTERNALS !== 'off',
  // Through the main process's logger; straight to stderr only when the channel is gone.
  log: (level, message, data) => {
    if (process.connected) send({ t: 'log', level, message: `[worker pid ${process.pid}] ${message}`, data });
    else console.error(`[worker pid ${process.pid}] ${message}${data ? ` ${JSON.stringify(data)}` : ''}`);
  },
});

runtime.onEvent((event) => send({ t: 'event', event }));

// Session ends: batched, and only while the main process listens for them.
let ends: SessionEndRecord[] = [];
let flushTimer: NodeJS.Timeout | undefined;
let unsubscribeEnds: (() => void) | undefined;
function flushEnds(): void {
  flushTimer = undefined;
  if (ends.length === 0) return;
  send({ t: 'session-ends', records: ends });
  ends = [];
}
function onSessionEnd(record: SessionEndRecord): void {
  ends.push(record);
  if (ends.length >= SESSION_END_BATCH) {
    clearTimeout(flushTimer);
    flushEnds();
  } else flushTimer ??= setTimeout(flushEnds, SESSION_END_FLUSH_MS);
}

// Limit shares (docs/workers.md, "maxconn for the whole appliance"): when a share runs low the main process
// is asked to move share here from workers with room; one request at a time. After a refusal (no worker had
// room to spare: the appliance is at its limit) it asks again only after a pause that doubles from
// SHARE_RETRY_MS up to SHARE_RETRY_MAX_MS while the refusals go on, so an appliance at its limit doesn't spin.
let shareAsked = false;
let shareRetry: NodeJS.Timeout | undefined;
let shareRetryMs = SHARE_RETRY_MS;
function askShare(): void {
  if (shareAsked || shareRetry !== undefined) return;
  const free = runtime.lowShares();
  if (Object.keys(free).length === 0) return;
  shareAsked = true;
  send({ t: 'share-low', free });
}
function shareGranted(grants: Record<string, number>): void {
  shareAsked = false;
  let total = 0;
  for (const [key, count] of Object.entries(grants)) {
    runtime.addShare(key, count);
    total += count;
  }
  if (total > 0) {
    shareRetryMs = SHARE_RETRY_MS;
    askShare();
    return;
  }
  shareRetry = setTimeout(() => {
    shareRetry = undefined;
    askShare();
  }, shareRetryMs);
  shareRetryMs = Math.min(2 * shareRetryMs, SHARE_RETRY_MAX_MS);
}
runtime.onShareLow(askShare);

async function call(method: string, args: unknown[]): Promise<unknown> {
  const api = runtime as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  if (method === 'close') {
    clearInterval(reportTimer);
    clearTimeout(shareRetry);
    const closed = await runtime.close();
    flushEnds();
    return closed;
  }
  if (method === 'apply') {
    // The snapshot carries the even split of the accept limits; this worker's shares follow at once: nothing
    // runs between the swap (synchronous, at the end of apply) and here but promise callbacks, so no accept
    // sees the even split.
    const [snapshot, options, shares] = args as [Snapshot, ApplyOptions, Record<string, number> | undefined];
    const result = await runtime.apply(snapshot, options);
    if (shares !== undefined) runtime.setShares(shares);
    return result;
  }
  const fn = api[method as keyof ProxyRuntimeApi];
  if (typeof fn !== 'function') throw new Error(`unknown method ${method}`);
  return fn.apply(runtime, args);
}

function wireError(error: unknown): WireError {
  if (error instanceof RuntimeError) {
    return {
      name: 'RuntimeError',
      message: error.message,
      code: error.code,
      subject: error.subject as Record<string, string>,
      cause_code: error.cause_code,
    };
  }
  return { name: 'Error', message: error instanceof Error ? error.message : String(error) };
}

process.on('message', (message: ToWorker) => {
  switch (message.t) {
    case 'call':
      call(message.method, message.args).then(
        (value) => send({ t: 'reply', id: message.id, ok: true, value: value ?? null }),
        (error: unknown) => send({ t: 'reply', id: message.id, ok: false, error: wireError(error) }),
      );
      break;
    case 'health':
      runtime.pushHealth(message.entries);
      break;
    case 'admitted':
      loginGate.answered(message.id, message.verdict);
      break;
    case 'share-grant':
      shareGranted(message.grants);
      break;
    case 'remote-sessions':
      runtime.setRemoteSessions(message.counts);
      break;
    case 'session-ends':
      if (message.on && !unsubscribeEnds) unsubscribeEnds = runtime.onSessionEnd(onSessionEnd);
      if (!message.on && unsubscribeEnds) {
        unsubscribeEnds();
        unsubscribeEnds = undefined;
      }
      break;
  }
});

// Counts for the main process: live sessions (lost if this process dies), RSS, per-server sessions for leastconn.
const reportTimer = setInterval(() => {
  send({ t: 'report', rssBytes: process.memoryUsage.rss(), ...runtime.loadReport() });
}, REPORT_INTERVAL_MS);

// Ctrl-C and `kill` of the process group reach the workers too: the main process decides when they stop
// (it closes them over IPC on its own shutdown), so these signals are not theirs to act on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

// The main process went away: nothing drives this runtime any more.
process.on('disconnect', () => {
  void runtime.close().finally(() => process.exit(0));
});

send({ t: 'ready' });
