// The cost of CMPP inspection (issue 11 point 7, docs/cmpp-inspection.md): two Tether proxies, one with
// `inspect: 'none'` and one with `inspect: 'cmpp'`, under the same SUBMIT load in interleaved rounds. Bar: the
// inspecting proxy's CPU per message is at most 1.15 × the other's (16 in flight, the busy shape), measured "with
// workers as the scale issue builds them": each proxy is as many worker processes as `TETHER_WORKERS=auto` starts
// here for a config whose maxconn fits (the core count, at least 2; `--workers N` > 1 chooses N), its CPU summed
// over them (workers.ts). The same comparison with one process each follows, for what a single process costs.
// Knobs: BENCH_INSPECT=0 skips it; BENCH_INSPECT_ROUNDS (5; quick 2); BENCH_INSPECT_WORKERS (a comma list of
// process counts, the first one judged; default "<workers>,1").
import { availableParallelism } from 'node:os';
import type { Snapshot } from '../../src/schema/snapshot.js';
import type { CmppStats } from '../../src/runtime/types.js';
import { freePort } from '../helpers/net.js';
import { NodeChild } from './children.js';
import type { Bench, LoadMeasurement, Target } from './measure.js';
import { benchSnapshot, NODE_PROXY_FLAGS } from './proxies.js';
import { median } from './report.js';
import { settings } from './settings.js';

type Inspect = 'none' | 'cmpp';
const MODES: Inspect[] = ['none', 'cmpp'];
export const INSPECT_BAR = 1.15;

/** Process counts to compare at, the judged one first (see the header). */
function inspectWorkers(): number[] {
  const raw = process.env.BENCH_INSPECT_WORKERS;
  if (raw !== undefined && raw !== '') {
    const list = raw.split(',').map((v) => Number(v.trim()));
    if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 64))
      throw new Error(`BENCH_INSPECT_WORKERS must be a comma list of integers from 1 to 64, got ${raw}`);
    return list;
  }
  const workers = settings.workers > 1 ? settings.workers : Math.max(2, availableParallelism());
  return [workers, 1];
}

export const inspectSettings = {
  enabled: process.env.BENCH_INSPECT !== '0',
  rounds: Number(process.env.BENCH_INSPECT_ROUNDS) || (settings.quick ? 2 : 5),
  workers: inspectWorkers(),
};

interface Shape {
  connections: number;
  inflight: number;
}

export interface InspectRow {
  inspect: Inspect;
  shape: Shape;
  rate: number | null;
  cpuUsPerMessage: number | null;
  /** Per round, in round order: the spread behind the medians. */
  rates: number[];
  cpuUsPerMessages: number[];
}

export interface InspectComparison {
  /** Processes per proxy (1: one process; more: a cluster primary's workers, CPU summed). */
  workers: number;
  rounds: number;
  rows: InspectRow[];
  /** CPU per message inspect cmpp ÷ none at the busy shape (medians). */
  cpuRatio: number | null;
  bar: number;
  passed: boolean | null;
  /** What the inspecting proxy counted: proof that it inspected the load it was measured under. */
  counted: { submits: number; submitResps: number; latencySamples: number; notCmpp: number } | null;
  measurements: LoadMeasurement[];
}

async function startTether(runtimeModule: string, backendPorts: number[], inspect: Inspect, workers: number) {
  const port = await freePort();
  const child = NodeChild.start(`tether inspect ${inspect}`, 'tether-proxy.ts', {
    nodeFlags: NODE_PROXY_FLAGS,
    env: { BENCH_RUNTIME_MODULE: runtimeModule, BENCH_PROXY_WORKERS: String(workers) },
  });
  // One process, or a cluster primary and its workers: CPU is summed over every pid.
  const pids = (await child.ready()).pids as number[];
  const snapshot: Snapshot = benchSnapshot(port, backendPorts);
  snapshot.frontends[0].inspect = inspect;
  await child.request('apply', snapshot, 15_000);
  return { child, port, pids };
}

/** What the inspecting proxy counted, summed over its workers (a cluster primary answers one per worker). */
function sumCounted(answer: CmppStats | null | Array<CmppStats | null>): InspectComparison['counted'] {
  const all = (Array.isArray(answer) ? answer : [answer]).filter((c): c is CmppStats => c !== null);
  if (all.length === 0) return null;
  const sum = (f: (c: CmppStats) => number) => all.reduce((total, c) => total + f(c), 0);
  return {
    submits: sum((c) => c.up.submit),
    submitResps: sum((c) => c.down.submitResp),
    latencySamples: sum((c) => c.latency.counts.reduce((a, b) => a + b, 0)),
    notCmpp: sum((c) => c.notCmpp),
  };
}

export async function compareInspection(
  bench: Bench,
  backendPorts: number[],
  runtimeModule: string,
  log: (line: string) => void,
  workers: number,
): Promise<InspectComparison> {
  const shapes: Shape[] = [settings.busy, settings.light];
  const proxies = new Map<Inspect, Awaited<ReturnType<typeof startTether>>>();
  const measurements: Array<LoadMeasurement & { inspect: Inspect }> = [];
  let counted: InspectComparison['counted'] = null;
  try {
    for (const mode of MODES)
      proxies.set(mode, await startTether(runtimeModule, backendPorts, mode, workers));
    const target = (mode: Inspect): Target => ({
      name: 'tether',
      ports: [proxies.get(mode)!.port],
      pids: proxies.get(mode)!.pids,
    });
    const processes = describeWorkers(workers);
    log(
      `\nCMPP inspection cost: inspect none vs cmpp (${processes}), ${inspectSettings.rounds} interleaved rounds`,
    );
    for (const mode of MODES) await bench.load(target(mode), 0, settings.busy, settings.warmupMs);
    for (let round = 1; round <= inspectSettings.rounds; round++) {
      // Alternate which mode goes first, so neither always runs on the warmer machine.
      const order = round % 2 === 1 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        for (const shape of shapes) {
          const m = await bench.load(target(mode), round, shape, settings.loadMs);
          measurements.push({ ...m, inspect: mode });
          log(
            `  round ${round} inspect ${mode.padEnd(4)} ${shape.connections}×${String(shape.inflight).padEnd(2)} ` +
              `${m.rate.toFixed(0).padStart(7)} msg/s  proxy ${m.proxyCpuUsPerMessage?.toFixed(2) ?? '—'} µs/msg`,
          );
        }
        await bench.waitBackendIdle();
      }
    }
    counted = sumCounted(
      await proxies.get('cmpp')!.child.request<CmppStats | null | Array<CmppStats | null>>('cmpp'),
    );
  } finally {
    for (const { child } of proxies.values()) await child.stop();
  }
  const rows: InspectRow[] = [];
  for (const shape of shapes)
    for (const inspect of MODES) {
      const ms = measurements.filter(
        (m) => m.inspect === inspect && m.connections === shape.connections && m.inflight === shape.inflight,
      );
      const cpu = ms.map((m) => m.proxyCpuUsPerMessage).filter((v): v is number => v !== null);
      rows.push({
        inspect,
        shape,
        rate: median(ms.map((m) => m.rate)),
        cpuUsPerMessage: median(cpu),
        rates: ms.map((m) => Math.round(m.rate)),
        cpuUsPerMessages: cpu.map((v) => Math.round(v * 100) / 100),
      });
    }
  const busy = (inspect: Inspect) =>
    rows.find((r) => r.inspect === inspect && r.shape.inflight === settings.busy.inflight)!.cpuUsPerMessage;
  const none = busy('none');
  const inspected = busy('cmpp');
  const cpuRatio = none && inspected ? inspected / none : null;
  return {
    workers,
    rounds: inspectSettings.rounds,
    rows,
    cpuRatio,
    bar: INSPECT_BAR,
    passed: cpuRatio === null ? null : cpuRatio <= INSPECT_BAR,
    counted,
    measurements,
  };
}

function describeWorkers(workers: number): string {
  return workers === 1 ? 'one process each' : `${workers} worker processes each`;
}

export function renderInspection(result: InspectComparison): string {
  const lines = [
    `${describeWorkers(result.workers)}, ${result.rounds} interleaved rounds:`,
    '| inspect | load | messages/s (median; rounds) | proxy CPU µs/msg (median; rounds) |',
    '|---|---|---|---|',
  ];
  for (const r of result.rows)
    lines.push(
      `| ${r.inspect} | ${r.shape.connections}×${r.shape.inflight} | ${r.rate?.toFixed(0) ?? '—'} (${r.rates.join(', ')}) | ` +
        `${r.cpuUsPerMessage?.toFixed(2) ?? '—'} (${r.cpuUsPerMessages.join(', ')}) |`,
    );
  const ratio = result.cpuRatio === null ? '—' : result.cpuRatio.toFixed(3);
  lines.push(
    `CPU per message, inspect cmpp ÷ none at ${settings.busy.connections}×${settings.busy.inflight}: ${ratio} ` +
      `(bar ≤ ${result.bar}): ${result.passed === null ? 'not measured' : result.passed ? 'PASS' : 'FAIL'}`,
  );
  if (result.counted)
    lines.push(
      `the inspecting proxy counted ${result.counted.submits} SUBMITs, ${result.counted.submitResps} SUBMIT_RESPs, ` +
        `${result.counted.latencySamples} latency samples, ${result.counted.notCmpp} non-CMPP sessions`,
    );
  else lines.push('!! the inspecting proxy reported no CMPP counters');
  return lines.join('\n');
}
