// One view over all workers: counters summed, check results from the main process's health runtime
// (the only place servers are checked), sessions and history concatenated / summed by second.
import type {
  AcceptErrorStats,
  ApplyResult,
  CmppAccountStats,
  BackendStats,
  FrontendStats,
  RuntimeStats,
  ServerStats,
  StatsSample,
  WorkerStats,
} from '../runtime/types.js';
import { mergeCmpp, mergeCmppAccounts } from './merge-cmpp.js';

const FRONTEND_SUMS = [
  'scur',
  'smax',
  'slim',
  'stot',
  'bin',
  'bout',
  'denied',
  'noServer',
  'rate',
  'rate_max',
] as const;
const TRAFFIC_SUMS = [
  'scur',
  'smax',
  'stot',
  'bin',
  'bout',
  'econ',
  'wretr',
  'wredis',
  'lbtot',
  'rate',
  'rate_max',
] as const;

function mergeFrontends(perWorker: FrontendStats[][]): FrontendStats[] {
  const byName = new Map<string, FrontendStats>();
  const order: FrontendStats[] = [];
  for (const list of perWorker) {
    for (const f of list) {
      const seen = byName.get(f.name);
      if (seen === undefined) {
        const copy = { ...f, cmpp: mergeCmpp([f.cmpp]) };
        byName.set(f.name, copy);
        order.push(copy);
        continue;
      }
      for (const key of FRONTEND_SUMS) seen[key] += f[key];
      if (f.cmpp !== undefined) seen.cmpp = mergeCmpp([seen.cmpp, f.cmpp]);
      // One worker that could not listen makes the frontend FAILED: the operator must see it.
      if (f.status === 'FAILED' && seen.status !== 'FAILED') {
        seen.status = 'FAILED';
        seen.error = f.error;
        seen.retry = f.retry;
      }
    }
  }
  return order;
}

function mergeServer(health: ServerStats, perWorker: ServerStats[]): ServerStats {
  const merged: ServerStats = { ...health };
  for (const key of TRAFFIC_SUMS) merged[key] = 0;
  merged.slim = perWorker.length > 0 ? 0 : health.slim;
  merged.oldestSessionAge = 0;
  merged.cmpp = mergeCmpp(perWorker.map((s) => s.cmpp));
  if (merged.cmpp === undefined) delete merged.cmpp;
  for (const s of perWorker) {
    for (const key of TRAFFIC_SUMS) merged[key] += s[key];
    merged.slim += s.slim;
    merged.oldestSessionAge = Math.max(merged.oldestSessionAge, s.oldestSessionAge);
  }
  return merged;
}

function mergeBackends(health: BackendStats[], perWorker: BackendStats[][]): BackendStats[] {
  const workerBackends = perWorker.map((list) => new Map(list.map((b) => [b.name, b])));
  return health.map((hb) => {
    // Status, chkdown, lastchg and downtime stay the health runtime's: a backend's DOWN is the same in every
    // worker (they follow its pushed health), so it is taken once; a sum would be N× the real count (docs/workers.md).
    const merged: BackendStats = { ...hb };
    for (const key of TRAFFIC_SUMS) merged[key] = 0;
    const theirs = workerBackends
      .map((m) => m.get(hb.name))
      .filter((b): b is BackendStats => b !== undefined);
    for (const b of theirs) for (const key of TRAFFIC_SUMS) merged[key] += b[key];
    const servers = theirs.map((b) => new Map(b.servers.map((s) => [s.name, s])));
    merged.servers = hb.servers.map((hs) =>
      mergeServer(
        hs,
        servers.map((m) => m.get(hs.name)).filter((s): s is ServerStats => s !== undefined),
      ),
    );
    return merged;
  });
}

function mergeAcceptErrors(list: Array<AcceptErrorStats | undefined>): AcceptErrorStats {
  const out: AcceptErrorStats = { errors: 0, pauses: 0, lastCode: '', lastAt: 0 };
  for (const a of list) {
    if (!a) continue;
    out.errors += a.errors;
    out.pauses += a.pauses;
    if (a.lastAt > out.lastAt) {
      out.lastAt = a.lastAt;
      out.lastCode = a.lastCode;
    }
  }
  return out;
}

/** Health runtime's backends and checks + every worker's counters + the pool's own per-worker figures. */
export function mergeStats(
  health: RuntimeStats,
  perWorker: RuntimeStats[],
  workers: WorkerStats[],
  uptime: number,
): RuntimeStats {
  return {
    at: health.at,
    uptime,
    frontends: mergeFrontends(perWorker.map((s) => s.frontends)),
    backends: mergeBackends(
      health.backends,
      perWorker.map((s) => s.backends),
    ),
    ...accounts(mergeCmppAccounts(perWorker.map((s) => s.cmppAccounts))),
    acceptErrors: mergeAcceptErrors(perWorker.map((s) => s.acceptErrors)),
    workers,
  };
}

function accounts(rows: CmppAccountStats[] | undefined): { cmppAccounts?: CmppAccountStats[] } {
  return rows === undefined ? {} : { cmppAccounts: rows };
}

/** Samples of all workers summed per second (each worker samples once a second on its own clock). */
export function mergeHistory(perWorker: StatsSample[][]): StatsSample[] {
  const bySecond = new Map<number, StatsSample>();
  for (const list of perWorker) {
    for (const sample of list) {
      const second = Math.floor(sample.t / 1000) * 1000;
      let merged = bySecond.get(second);
      if (merged === undefined) {
        merged = { t: second, frontends: {}, servers: {} };
        bySecond.set(second, merged);
      }
      addAll(merged.frontends, sample.frontends);
      addAll(merged.servers, sample.servers);
    }
  }
  return [...bySecond.values()].sort((a, b) => a.t - b.t);
}

type Totals = Record<string, { scur: number; stot: number; bin: number; bout: number }>;

function addAll(into: Totals, from: Totals): void {
  for (const [key, v] of Object.entries(from)) {
    const t = into[key];
    if (t === undefined) into[key] = { ...v };
    else {
      t.scur += v.scur;
      t.stot += v.stot;
      t.bin += v.bin;
      t.bout += v.bout;
    }
  }
}

/** Frontends left FAILED by any worker, once each. */
export function mergeApplyResults(results: ApplyResult[]): ApplyResult {
  const byName = new Map<string, ApplyResult['failedFrontends'][number]>();
  for (const r of results)
    for (const f of r.failedFrontends) if (!byName.has(f.frontend)) byName.set(f.frontend, f);
  return { failedFrontends: [...byName.values()] };
}
