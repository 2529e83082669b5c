import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, describeError } from '../api.js';
import { bytesInUnitOf, rate } from '../format.js';
import { onStats } from '../live.js';
import type { RuntimeStats, StatsSample } from '../types.js';

const WINDOW_MS = 15 * 60 * 1000;
const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
];

/** Y tick steps 1, 2, 5 × 10^k in the unit shown: sessions are whole; bytes step by 50 KB, not 48.8 KB. */
const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500];
const SESSION_INCRS = [1, 1e3, 1e6].flatMap((f) => STEPS.map((m) => m * f));
const BYTE_INCRS = [0, 1, 2, 3, 4].flatMap((p) => STEPS.map((m) => m * 1024 ** p));

function toSample(s: RuntimeStats): StatsSample {
  const frontends: StatsSample['frontends'] = {};
  for (const f of s.frontends) frontends[f.name] = { scur: f.scur, stot: f.stot, bin: f.bin, bout: f.bout };
  const servers: StatsSample['servers'] = {};
  for (const b of s.backends)
    for (const sv of b.servers)
      servers[`${b.name}/${sv.name}`] = { scur: sv.scur, stot: sv.stot, bin: sv.bin, bout: sv.bout };
  return { t: s.at, frontends, servers };
}

type Group = 'frontends' | 'servers';
type Metric = 'sessions' | 'throughput';

/** uPlot data for one chart: time in seconds, one series per frontend or server. */
function series(
  samples: StatsSample[],
  group: Group,
  metric: Metric,
): { names: string[]; data: uPlot.AlignedData } {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s[group])))].sort();
  const xs = samples.map((s) => s.t / 1000);
  const ys = names.map((name) =>
    samples.map((s, i) => {
      const v = s[group][name];
      if (!v) return null;
      if (metric === 'sessions') return v.scur;
      const prev = i > 0 ? samples[i - 1][group][name] : undefined;
      if (!prev) return null;
      const dt = (s.t - samples[i - 1].t) / 1000;
      const d = v.bin + v.bout - prev.bin - prev.bout;
      return dt > 0 && d >= 0 ? d / dt : null; // a reset counter is a gap, not a negative spike
    }),
  );
  return { names, data: [xs, ...ys] as uPlot.AlignedData };
}

export function Charts() {
  const [samples, setSamples] = useState<StatsSample[] | null>(null);
  const [error, setError] = useState('');
  const buffer = useRef<StatsSample[]>([]);

  useEffect(() => {
    let alive = true;
    let pending: StatsSample[] = [];
    const off = onStats((s) => {
      const sample = toSample(s);
      if (!alive) return;
      if (buffer.current.length === 0) {
        pending.push(sample);
        return;
      }
      const last = buffer.current[buffer.current.length - 1];
      if (sample.t <= last.t) return;
      buffer.current = [...buffer.current, sample].filter((x) => x.t >= sample.t - WINDOW_MS);
      setSamples(buffer.current);
    });
    api
      .get<StatsSample[]>('/stats/history')
      .then((history) => {
        if (!alive) return;
        const lastT = history.length ? history[history.length - 1].t : 0;
        buffer.current = [...history, ...pending.filter((p) => p.t > lastT)];
        pending = [];
        setSamples(buffer.current);
      })
      .catch((e) => alive && setError(describeError(e)));
    return () => {
      alive = false;
      off();
    };
  }, []);

  if (error) return <p class="form-error">Cannot load the history of statistics: {error}</p>;
  if (!samples) return <p class="muted">Loading the last 15 minutes…</p>;
  if (samples.length < 2)
    return <p class="empty">Collecting samples… charts appear after a couple of seconds.</p>;
  return (
    // When the drawn history starts (ms): after a restart it reaches back before it (issue 13, point 2).
    <div class="charts" data-from={samples[0].t}>
      <Chart title="Sessions per frontend" samples={samples} group="frontends" metric="sessions" />
      <Chart
        title="Throughput per frontend (in + out)"
        samples={samples}
        group="frontends"
        metric="throughput"
      />
      <Chart title="Sessions per server" samples={samples} group="servers" metric="sessions" />
      <Chart title="Throughput per server (in + out)" samples={samples} group="servers" metric="throughput" />
    </div>
  );
}

function Chart({
  title,
  samples,
  group,
  metric,
}: {
  title: string;
  samples: StatsSample[];
  group: Group;
  metric: Metric;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const namesKey = useRef('');
  const { names, data } = series(samples, group, metric);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const key = names.join('\n');
    // Series set changed (a server added, say): rebuild; otherwise just feed the new data.
    if (plot.current && namesKey.current === key) {
      plot.current.setData(data);
      return;
    }
    plot.current?.destroy();
    namesKey.current = key;
    const fmt = metric === 'sessions' ? (v: number) => String(Math.round(v)) : (v: number) => rate(v);
    plot.current = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: 220,
        series: [
          {},
          ...names.map((name, i) => ({
            label: name,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
          })),
        ],
        axes: [
          {},
          {
            size: metric === 'sessions' ? 50 : 80,
            incrs: metric === 'sessions' ? SESSION_INCRS : BYTE_INCRS,
            values: (_u: uPlot, ticks: number[], _axis: number, _space: number, step: number) =>
              ticks.map((v) => (metric === 'sessions' ? String(v) : `${bytesInUnitOf(v, step)}/s`)),
          },
        ],
        scales: {
          y: { range: (_u, _min, max) => [0, Math.max(metric === 'sessions' ? 1 : 1024, max * 1.1)] },
        },
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      el,
    );
  });

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 220 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  return (
    <section class="chart-box" aria-label={title}>
      <h3>{title}</h3>
      {names.length === 0 && <p class="muted small">Nothing to chart yet.</p>}
      <div ref={box} />
    </section>
  );
}
