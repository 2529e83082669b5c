// The session log's cost (issue 9: "logging never blocks or slows the relay"): two Tether children side by side,
// one with the session log off, one with it on as in production (pino JSON to BENCH_SESSION_LOG_FILE, default
// /dev/null, and every line also to a UDP syslog sink in this process), measured in interleaved rounds (the
// order alternates) on the busy shape (CPU per message) and the new-connection loop (CPU per connection).
// Prints the medians, their on/off ratio and each round's values. BENCH_LOGGING=off skips it.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe } from './ipc.js';
import type { Bench, ConnRateMeasurement, LoadMeasurement, Target } from './measure.js';
import { startProxy, type RunningProxy } from './proxies.js';
import { median } from './report.js';
import { settings } from './settings.js';

type Variant = 'off' | 'on';
const VARIANTS: Variant[] = ['off', 'on'];

export interface LoggingComparison {
  rounds: number;
  /** Lines the syslog sink received (the "on" child's sessions). */
  syslogLines: number;
  perMessage: Record<Variant, number[]>;
  perConnection: Record<Variant, number[]>;
  ratios: { perMessage: number | null; perConnection: number | null };
  failures: string[];
}

/** Counts datagrams and drops them: the collector must not be what is measured. */
async function syslogSink(): Promise<{ port: number; count: () => number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, count: () => received, close: () => socket.close() };
}

export const loggingEnabled = () => process.env.BENCH_LOGGING !== 'off';

export async function compareSessionLogging(
  bench: Bench,
  backendPorts: number[],
  log: (line: string) => void,
): Promise<LoggingComparison> {
  const rounds = Math.max(5, settings.rounds);
  const sink = await syslogSink();
  const proxies = new Map<Variant, RunningProxy>();
  const result: LoggingComparison = {
    rounds,
    syslogLines: 0,
    perMessage: { off: [], on: [] },
    perConnection: { off: [], on: [] },
    ratios: { perMessage: null, perConnection: null },
    failures: [],
  };
  try {
    proxies.set('off', await startProxy('tether', backendPorts, { BENCH_SESSION_LOG: 'off' }));
    proxies.set(
      'on',
      await startProxy('tether', backendPorts, {
        BENCH_SESSION_LOG: 'json',
        BENCH_SESSION_SYSLOG: `127.0.0.1:${sink.port},local0`,
      }),
    );
    const targetOf = (v: Variant): Target => {
      const p = proxies.get(v)!;
      return { name: 'tether', ports: [p.port], pid: p.pid, liveSessions: p.liveSessions };
    };
    log(
      `\nsession log cost: Tether with the session log off vs on (JSON to ${process.env.BENCH_SESSION_LOG_FILE || '/dev/null'} + UDP syslog), ${rounds} interleaved rounds`,
    );
    for (const v of VARIANTS) await bench.load(targetOf(v), 0, settings.busy, settings.warmupMs);
    for (let round = 1; round <= rounds; round++) {
      // Alternate which goes first: a machine getting busier mid-round favours neither.
      const order = round % 2 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        try {
          const m: LoadMeasurement = await bench.load(targetOf(v), round, settings.busy, settings.loadMs);
          const c: ConnRateMeasurement = await bench.connRate(targetOf(v), round);
          if (m.proxyCpuUsPerMessage !== null) result.perMessage[v].push(m.proxyCpuUsPerMessage);
          if (c.proxyCpuUsPerConnection !== null) result.perConnection[v].push(c.proxyCpuUsPerConnection);
          log(
            `  round ${round} log ${v.padEnd(3)}: ${m.proxyCpuUsPerMessage?.toFixed(2)} µs/msg, ` +
              `${c.proxyCpuUsPerConnection?.toFixed(1)} µs/conn (${c.rate.toFixed(0)} conn/s)`,
          );
        } catch (err) {
          result.failures.push(`round ${round} ${v}: ${describe(err)}`);
          log(`  !! round ${round} log ${v}: ${describe(err)}`);
        }
        await bench.waitBackendIdle();
      }
    }
  } finally {
    for (const p of proxies.values()) await p.stop();
    result.syslogLines = sink.count();
    sink.close();
  }
  const ratio = (on: number[], off: number[]) => {
    const [a, b] = [median(on), median(off)];
    return a === null || b === null || b === 0 ? null : a / b;
  };
  result.ratios = {
    perMessage: ratio(result.perMessage.on, result.perMessage.off),
    perConnection: ratio(result.perConnection.on, result.perConnection.off),
  };
  log(renderLoggingComparison(result));
  return result;
}

export function renderLoggingComparison(r: LoggingComparison): string {
  const fmt = (v: number | null, d: number) => (v === null ? '—' : v.toFixed(d));
  const spread = (values: number[], d: number) => values.map((v) => v.toFixed(d)).join(' ');
  const line = (label: string, off: number[], on: number[], ratio: number | null, d: number) =>
    `  ${label.padEnd(34)} ${fmt(median(off), d).padStart(8)} ${fmt(median(on), d).padStart(8)} ${fmt(ratio, 2).padStart(6)}×\n` +
    `  ${''.padEnd(34)} rounds off: ${spread(off, d)} | on: ${spread(on, d)}`;
  return [
    `  ${'proxy CPU (median over rounds)'.padEnd(34)} ${'log off'.padStart(8)} ${'log on'.padStart(8)}  on/off`,
    line(
      `per message (${settings.busy.connections}×${settings.busy.inflight}), µs`,
      r.perMessage.off,
      r.perMessage.on,
      r.ratios.perMessage,
      2,
    ),
    line('per new connection, µs', r.perConnection.off, r.perConnection.on, r.ratios.perConnection, 1),
    `  syslog datagrams received: ${r.syslogLines}` +
      (r.failures.length ? `; ${r.failures.length} measurement(s) failed` : ''),
  ].join('\n');
}
