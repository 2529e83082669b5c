// The session log's cost (issue 9: "logging never blocks or slows the relay"): three Tether children side by side,
// the session log off, on as JSON lines (to BENCH_SESSION_LOG_FILE, default /dev/null), and on with every line
// also sent to a UDP syslog sink in this process; measured in interleaved rounds (the order rotates) on the busy
// shape (CPU per message) and the new-connection loop (CPU per connection). Prints the medians, their ratio to
// "off" and each round's values. BENCH_LOGGING=off skips it.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { SessionLog } from '../../src/logging/session-log.js';
import type { SessionEndRecord } from '../../src/runtime/types.js';
import { describe } from './ipc.js';
import type { Bench, ConnRateMeasurement, LoadMeasurement, Target } from './measure.js';
import { startProxy, type RunningProxy } from './proxies.js';
import { median } from './report.js';
import { settings } from './settings.js';

type Variant = 'off' | 'json' | 'syslog';
const VARIANTS: Variant[] = ['off', 'json', 'syslog'];
const LABEL: Record<Variant, string> = { off: 'log off', json: 'JSON', syslog: 'JSON+syslog' };

export interface LoggingComparison {
  rounds: number;
  /** Lines the syslog sink received (the "syslog" child's sessions). */
  syslogLines: number;
  perMessage: Record<Variant, number[]>;
  perConnection: Record<Variant, number[]>;
  /** SessionLog.write alone, in this process: median CPU µs per line over rounds, by what it writes. */
  perLine: Record<string, number | null>;
  /** Median of a logging variant ÷ median of "off". */
  ratios: Record<'json' | 'syslog', { perMessage: number | null; perConnection: number | null }>;
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
    perLine: {},
    perMessage: { off: [], json: [], syslog: [] },
    perConnection: { off: [], json: [], syslog: [] },
    ratios: {
      json: { perMessage: null, perConnection: null },
      syslog: { perMessage: null, perConnection: null },
    },
    failures: [],
  };
  try {
    proxies.set('off', await startProxy('tether', backendPorts, { BENCH_SESSION_LOG: 'off' }));
    proxies.set('json', await startProxy('tether', backendPorts, { BENCH_SESSION_LOG: 'json' }));
    proxies.set(
      'syslog',
      await startProxy('tether', backendPorts, {
        BENCH_SESSION_LOG: 'json',
        BENCH_SESSION_SYSLOG: `127.0.0.1:${sink.port},local0`,
      }),
    );
    result.perLine = await lineCost(sink.port);
    const targetOf = (v: Variant): Target => {
      const p = proxies.get(v)!;
      return { name: 'tether', ports: [p.port], pids: p.pids, liveSessions: p.liveSessions };
    };
    log(
      `\nsession log cost: Tether with the session log off, JSON (to ${process.env.BENCH_SESSION_LOG_FILE || '/dev/null'}) and JSON + UDP syslog, ${rounds} interleaved rounds`,
    );
    for (const v of VARIANTS) await bench.load(targetOf(v), 0, settings.busy, settings.warmupMs);
    for (let round = 1; round <= rounds; round++) {
      // Rotate which goes first: a machine getting busier mid-round favours none.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
      for (const v of order) {
        try {
          const m: LoadMeasurement = await bench.load(targetOf(v), round, settings.busy, settings.loadMs);
          const c: ConnRateMeasurement = await bench.connRate(targetOf(v), round);
          if (m.proxyCpuUsPerMessage !== null) result.perMessage[v].push(m.proxyCpuUsPerMessage);
          if (c.proxyCpuUsPerConnection !== null) result.perConnection[v].push(c.proxyCpuUsPerConnection);
          log(
            `  round ${round} ${LABEL[v].padEnd(11)}: ${m.proxyCpuUsPerMessage?.toFixed(2)} µs/msg, ` +
              `${c.proxyCpuUsPerConnection?.toFixed(1)} µs/conn (${c.rate.toFixed(0)} conn/s)`,
          );
        } catch (err) {
          result.failures.push(`round ${round} ${v}: ${describe(err)}`);
          log(`  !! round ${round} ${LABEL[v]}: ${describe(err)}`);
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
  for (const v of ['json', 'syslog'] as const) {
    result.ratios[v] = {
      perMessage: ratio(result.perMessage[v], result.perMessage.off),
      perConnection: ratio(result.perConnection[v], result.perConnection.off),
    };
  }
  log(renderLoggingComparison(result));
  return result;
}

/** A typical ended session (names and numbers of the bench's own). */
const RECORD = {
  id: '1234',
  clientAddress: '127.0.0.5',
  clientPort: 40000,
  acceptedAt: 0,
  frontend: 'bench',
  backend: 'cmpp',
  server: 's1',
  tw: 0,
  tc: 1,
  tt: 3,
  bytesRead: 24,
  bytesUploaded: 36,
  termination: '--',
  actconn: 8,
  feconn: 8,
  beconn: 7,
  srvConn: 4,
  retries: 0,
  redispatched: false,
  srvQueue: 0,
  backendQueue: 0,
  reason: '',
} as SessionEndRecord;

/**
 * CPU per SessionLog.write in this process (to /dev/null; syslog to the sink), 8 rounds of 5,000 lines with a
 * turn of the event loop every 32 (so writes and sends complete as they would between sessions); the first two
 * rounds warm up. Less noisy than the proxies' ratios on a busy machine, and it says where the cost is.
 */
export async function lineCost(sinkPort: number): Promise<Record<string, number | null>> {
  const kinds = {
    'JSON line': { format: 'json' as const },
    'tcplog text line': { format: 'haproxy' as const },
    'JSON line + syslog': { format: 'json' as const, syslog: true },
  };
  const rounds: Record<string, number[]> = {};
  for (let round = 0; round < 8; round++) {
    for (const [name, kind] of Object.entries(kinds)) {
      const log = new SessionLog({
        format: kind.format,
        destination: '/dev/null',
        syslog: 'syslog' in kind ? { host: '127.0.0.1', port: sinkPort, facility: 'local0' } : undefined,
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const before = process.cpuUsage();
      for (let i = 0; i < 5000; i++) {
        log.write({ ...RECORD, clientPort: 40000 + (i & 1023), acceptedAt: Date.now() });
        if ((i & 31) === 31) await new Promise((resolve) => setImmediate(resolve));
      }
      const used = process.cpuUsage(before);
      await log.close();
      if (round >= 2) (rounds[name] ??= []).push((used.user + used.system) / 5000);
    }
  }
  return Object.fromEntries(Object.entries(rounds).map(([name, values]) => [name, median(values)]));
}

export function renderLoggingComparison(r: LoggingComparison): string {
  const fmt = (v: number | null, d: number) => (v === null ? '—' : v.toFixed(d));
  const cells = (values: Record<Variant, number[]>, d: number, pick: 'perMessage' | 'perConnection') =>
    `${fmt(median(values.off), d).padStart(9)} ` +
    `${fmt(median(values.json), d).padStart(9)} ${fmt(r.ratios.json[pick], 2).padStart(6)}× ` +
    `${fmt(median(values.syslog), d).padStart(11)} ${fmt(r.ratios.syslog[pick], 2).padStart(6)}×`;
  const spread = (values: Record<Variant, number[]>, d: number) =>
    `  ${''.padEnd(30)} rounds: ` +
    VARIANTS.map((v) => `${LABEL[v]} ${values[v].map((x) => x.toFixed(d)).join(' ')}`).join(' | ');
  return [
    `  SessionLog.write alone, CPU per line: ` +
      Object.entries(r.perLine)
        .map(([name, v]) => `${name} ${fmt(v, 2)} µs`)
        .join(', '),
    `  ${'proxy CPU, median over rounds'.padEnd(30)} ${'log off'.padStart(9)} ${'JSON'.padStart(9)} ${'÷ off'.padStart(7)} ${'JSON+syslog'.padStart(11)} ${'÷ off'.padStart(7)}`,
    `  ${`per message (${settings.busy.connections}×${settings.busy.inflight}), µs`.padEnd(30)} ${cells(r.perMessage, 2, 'perMessage')}`,
    spread(r.perMessage, 2),
    `  ${'per new connection, µs'.padEnd(30)} ${cells(r.perConnection, 1, 'perConnection')}`,
    spread(r.perConnection, 1),
    `  syslog datagrams received: ${r.syslogLines}` +
      (r.failures.length ? `; ${r.failures.length} measurement(s) failed` : ''),
  ].join('\n');
}
