// Medians, the printed table and the issue's bars.
import type { ConnRateMeasurement, IdleMeasurement, LoadMeasurement } from './measure.js';
import type { TargetName } from './settings.js';

export interface Row {
  section: string;
  label: string;
  values: Partial<Record<TargetName, number | null>>;
  /** Per-round values, for the spread line under the table. */
  rounds: Partial<Record<TargetName, number[]>>;
  digits: number;
}

export interface Bar {
  name: string;
  limit: number;
  /** true: the ratio must be at most `limit`; false: at least. */
  atMost: boolean;
  ratio: number | null;
  pass: boolean | null;
}

export function median(values: number[]): number | null {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

function row<M extends { target: TargetName | string }>(
  section: string,
  label: string,
  measurements: M[],
  pick: (m: M) => number | null,
  targets: TargetName[],
  digits: number,
): Row {
  const values: Row['values'] = {};
  const rounds: Row['rounds'] = {};
  for (const target of targets) {
    const mine = measurements.filter((m) => m.target === target).map(pick);
    if (mine.length === 0 || mine.every((v) => v === null)) {
      values[target] = null;
      continue;
    }
    const numbers = mine.filter((v): v is number => v !== null);
    rounds[target] = numbers;
    values[target] = median(numbers);
  }
  return { section, label, values, rounds, digits };
}

export function buildRows(
  loads: LoadMeasurement[],
  connRates: ConnRateMeasurement[],
  idles: IdleMeasurement[],
  targets: TargetName[],
  shapes: Array<{ connections: number; inflight: number }>,
): Row[] {
  const rows: Row[] = [];
  for (const shape of shapes) {
    const section = `${shape.connections} connections × ${shape.inflight} SUBMIT in flight`;
    const mine = loads.filter((m) => m.inflight === shape.inflight && m.connections === shape.connections);
    rows.push(row(section, 'messages/s', mine, (m) => m.rate, targets, 0));
    rows.push(row(section, 'round trip p50 (µs)', mine, (m) => m.p50Us, targets, 0));
    rows.push(row(section, 'round trip p99 (µs)', mine, (m) => m.p99Us, targets, 0));
    rows.push(row(section, 'proxy CPU per message (µs)', mine, (m) => m.proxyCpuUsPerMessage, targets, 2));
    rows.push(row(section, '  of which user (µs)', mine, (m) => m.proxyUserUsPerMessage, targets, 2));
    rows.push(row(section, '  of which system (µs)', mine, (m) => m.proxySystemUsPerMessage, targets, 2));
    rows.push(row(section, 'proxy CPU (% of a core)', mine, (m) => m.proxyCpuPercent, targets, 0));
    rows.push(row(section, 'load client CPU (% of a core)', mine, (m) => m.clientCpuPercent, targets, 0));
    rows.push(row(section, 'SUBMITs per client write', mine, (m) => m.framesPerWrite, targets, 1));
  }
  const idleSection = `idle connections held (${idles[0]?.requested ?? 0} from 40 source IPs)`;
  rows.push(
    row(idleSection, 'proxy RSS growth per connection (KB)', idles, (m) => m.kbPerConnection, targets, 2),
  );
  rows.push(row(idleSection, 'proxy RSS before (MB)', idles, (m) => m.rssBeforeKb / 1024, targets, 1));
  rows.push(row(idleSection, 'proxy RSS with all held (MB)', idles, (m) => m.rssAfterKb / 1024, targets, 1));
  rows.push(row(idleSection, 'time to open all (ms)', idles, (m) => m.connectMs, targets, 0));
  const rateSection = 'new connections (connect, one SUBMIT round trip, close; 8 loops)';
  rows.push(row(rateSection, 'connections/s', connRates, (m) => m.rate, targets, 0));
  rows.push(row(rateSection, 'connect + round trip p50 (µs)', connRates, (m) => m.p50Us, targets, 0));
  rows.push(row(rateSection, 'connect + round trip p99 (µs)', connRates, (m) => m.p99Us, targets, 0));
  rows.push(
    row(
      rateSection,
      'proxy CPU per connection (µs)',
      connRates,
      (m) => m.proxyCpuUsPerConnection,
      targets,
      1,
    ),
  );
  return rows;
}

export function ratio(
  r: Row | undefined,
  of: TargetName = 'tether',
  to: TargetName = 'haproxy',
): number | null {
  const a = r?.values[of];
  const b = r?.values[to];
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null;
}

/** Issue 10's bars (points 3 and 7); the per-connection-rate bar against HAProxy applies with 2+ workers. */
export function buildBars(rows: Row[], busyInflight: number, workers: number): Bar[] {
  const cpu = rows.find(
    (r) => r.label === 'proxy CPU per message (µs)' && r.section.includes(`× ${busyInflight} SUBMIT`),
  );
  const rss = rows.find((r) => r.label === 'proxy RSS growth per connection (KB)');
  const perConnection = rows.find((r) => r.label === 'proxy CPU per connection (µs)');
  const rate = rows.find((r) => r.label === 'connections/s');
  const bar = (name: string, limit: number, value: number | null, atMost = true): Bar => ({
    name,
    limit,
    atMost,
    ratio: value,
    pass: value === null ? null : atMost ? value <= limit : value >= limit,
  });
  const bars = [
    bar(`CPU per message at ${busyInflight} in flight, Tether/pipe`, 0.85, ratio(cpu, 'tether', 'pipe')),
    bar(`CPU per message at ${busyInflight} in flight, Tether/HAProxy`, 1.3, ratio(cpu)),
    bar('RSS per idle connection, Tether/HAProxy', 1.2, ratio(rss)),
  ];
  if (workers === 1)
    bars.push(bar('CPU per new connection, Tether/pipe', 0.75, ratio(perConnection, 'tether', 'pipe')));
  else bars.push(bar(`connections/s with ${workers} workers, Tether/HAProxy`, 0.8, ratio(rate), false));
  return bars;
}

function fmt(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function renderTable(rows: Row[], targets: TargetName[]): string {
  // Tether/pipe: what the runtime's features cost over a bare relay on this machine, today.
  const ratios: Array<[TargetName, TargetName]> = [['tether', 'haproxy']];
  if (targets.includes('pipe')) ratios.push(['tether', 'pipe']);
  const header = ['', ...targets, ...ratios.map(([a, b]) => `${a}/${b}`)];
  const lines: string[][] = [];
  let section = '';
  const sectionLines = new Set<number>();
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      sectionLines.add(lines.length);
      lines.push([section]);
    }
    lines.push([
      `  ${r.label}`,
      ...targets.map((name) => fmt(r.values[name], r.digits)),
      ...ratios.map(([a, b]) => {
        const value = ratio(r, a, b);
        return value === null ? '—' : `${value.toFixed(2)}×`;
      }),
    ]);
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.filter((_, n) => !sectionLines.has(n)).map((l) => (l[i] ?? '').length)),
  );
  const out: string[] = [];
  const render = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]) : c.padStart(widths[i]))).join('  ');
  out.push(render(header));
  out.push('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  lines.forEach((l, n) => out.push(sectionLines.has(n) ? l[0] : render(l)));
  return out.join('\n');
}

export function renderSpread(rows: Row[], labels: string[], targets: TargetName[]): string {
  const out: string[] = [];
  for (const r of rows.filter((x) => labels.includes(x.label))) {
    const parts = targets
      .filter((t) => r.rounds[t]?.length)
      .map((t) => `${t} ${r.rounds[t]!.map((v) => fmt(v, r.digits)).join(' / ')}`);
    if (parts.length) out.push(`  ${r.section.split(' (')[0]} · ${r.label}: ${parts.join(' | ')}`);
  }
  return out.join('\n');
}

export function renderBars(bars: Bar[]): string {
  return bars
    .map((b) => {
      const verdict = b.pass === null ? 'n/a ' : b.pass ? 'PASS' : 'FAIL';
      const value = b.ratio === null ? 'not measured' : `${b.ratio.toFixed(2)}×`;
      return `  [${verdict}] ${b.name}: ${value} (bar ${b.atMost ? '≤' : '≥'} ${b.limit}×)`;
    })
    .join('\n');
}

export interface MarkdownInput {
  startedAt: Date;
  machine: { cpuModel: string; cpus: number; node: string; haproxy: string; nodeFlags: string[] };
  workers: number;
  rounds: number;
  loadavg: { start: number; end: number };
  rows: Row[];
  targets: TargetName[];
  bars: Bar[];
  spreadLabels: string[];
}

/** The run as a Markdown page: machine and date, the table, the spread per round and the bars. */
export function renderMarkdown(input: MarkdownInput): string {
  const { rows, targets } = input;
  const ratios: Array<[TargetName, TargetName]> = [];
  if (targets.includes('tether') && targets.includes('haproxy')) ratios.push(['tether', 'haproxy']);
  if (targets.includes('tether') && targets.includes('pipe')) ratios.push(['tether', 'pipe']);
  const m = input.machine;
  const out: string[] = [
    `Taken ${input.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, ` +
      `Node ${m.node} (${m.nodeFlags.join(' ') || 'no flags'}), ${m.haproxy}; ` +
      `${input.workers === 1 ? 'one process / `nbthread 1`' : `${input.workers} worker processes / \`nbthread ${input.workers}\``}; ` +
      `medians of ${input.rounds} interleaved rounds; load average ${input.loadavg.start.toFixed(2)} at start, ${input.loadavg.end.toFixed(2)} at end.`,
    '',
    `| | ${[...targets, ...ratios.map(([a, b]) => `${a}/${b}`)].join(' | ')} |`,
    `|---|${[...targets, ...ratios].map(() => '---:').join('|')}|`,
  ];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out.push(`| **${section}** |${[...targets, ...ratios].map(() => ' ').join('|')}|`);
    }
    const cells = targets.map((t) => fmt(r.values[t], r.digits));
    const ratioCells = ratios.map(([a, b]) => {
      const value = ratio(r, a, b);
      return value === null ? '—' : `${value.toFixed(2)}×`;
    });
    out.push(`| ${r.label.trim()} | ${[...cells, ...ratioCells].join(' | ')} |`);
  }
  out.push('', 'Per round (the spread):', '');
  for (const line of renderSpread(rows, input.spreadLabels, targets).split('\n'))
    if (line) out.push(`- ${line.trim()}`);
  out.push('', 'Bars (issue 10):', '');
  for (const line of renderBars(input.bars).split('\n')) out.push(`- ${line.trim()}`);
  return out.join('\n') + '\n';
}
