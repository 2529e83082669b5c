// GET /metrics in the Prometheus text format, under the metric names and labels of HAProxy 2.6's built-in
// exporter (promex), so dashboards and alerts written for HAProxy read Tether unchanged. Only metrics that
// mean something for TCP proxying are exported; test/stats/haproxy-csv.test.ts checks names and types
// against a real HAProxy.
import type {
  BackendStats,
  CheckStatus,
  FrontendStats,
  RuntimeStats,
  ServerStats,
} from '../runtime/types.js';
import { renderCmppMetrics } from './cmpp-metrics.js';
import { backendFullconn, serverStatus, usableWeight, type ShowStatContext } from './haproxy-csv.js';

type Kind = 'gauge' | 'counter';
type Labels = Record<string, string>;

interface Metric<T> {
  name: string;
  kind: Kind;
  help: string;
  /** One or more samples per object: a number, or label values → number for state-set metrics. */
  value: (item: T) => number | Array<[Labels, number]>;
}

const SERVER_STATES = ['DOWN', 'UP', 'MAINT', 'DRAIN', 'NOLB'] as const;
// HAProxy's check status names, in promex's order.
// prettier-ignore
const CHECK_STATES = [
  'HANA', 'SOCKERR', 'L4OK', 'L4TOUT', 'L4CON', 'L6OK', 'L6TOUT', 'L6RSP', 'L7TOUT', 'L7RSP', 'L7OK', 'L7OKC',
  'L7STS', 'PROCERR', 'PROCTOUT', 'PROCOK',
] as const;

const stateSet = (states: readonly string[], current: string): Array<[Labels, number]> =>
  states.map((state) => [{ state }, state === current ? 1 : 0]);

const FRONTEND_METRICS: Array<Metric<FrontendStats>> = [
  { name: 'current_sessions', kind: 'gauge', help: 'Current sessions', value: (f) => f.scur },
  { name: 'max_sessions', kind: 'gauge', help: 'Most sessions at once since start', value: (f) => f.smax },
  { name: 'limit_sessions', kind: 'gauge', help: 'Session limit (maxconn)', value: (f) => f.slim },
  { name: 'sessions_total', kind: 'counter', help: 'Sessions since start', value: (f) => f.stot },
  { name: 'bytes_in_total', kind: 'counter', help: 'Bytes received from clients', value: (f) => f.bin },
  { name: 'bytes_out_total', kind: 'counter', help: 'Bytes sent to clients', value: (f) => f.bout },
  {
    name: 'status',
    kind: 'gauge',
    help: 'Whether the frontend is listening, per state label value',
    value: (f) => stateSet(['DOWN', 'UP'], f.status === 'OPEN' ? 'UP' : 'DOWN'),
  },
  {
    name: 'max_session_rate',
    kind: 'gauge',
    help: 'Highest sessions per second seen',
    value: (f) => f.rate_max,
  },
  {
    name: 'connections_total',
    kind: 'counter',
    help: 'Connections accepted, refused ones included',
    value: (f) => f.stot + f.denied,
  },
  {
    name: 'denied_connections_total',
    kind: 'counter',
    help: 'Connections refused by the allow-list',
    value: (f) => f.denied,
  },
];

interface BackendItem {
  backend: BackendStats;
  fullconn: number;
  lastsess: number;
}

const BACKEND_METRICS: Array<Metric<BackendItem>> = [
  { name: 'current_sessions', kind: 'gauge', help: 'Current sessions', value: (b) => b.backend.scur },
  {
    name: 'max_sessions',
    kind: 'gauge',
    help: 'Most sessions at once since start',
    value: (b) => b.backend.smax,
  },
  { name: 'limit_sessions', kind: 'gauge', help: "HAProxy's default fullconn", value: (b) => b.fullconn },
  { name: 'sessions_total', kind: 'counter', help: 'Sessions since start', value: (b) => b.backend.stot },
  {
    name: 'bytes_in_total',
    kind: 'counter',
    help: 'Bytes received from clients',
    value: (b) => b.backend.bin,
  },
  { name: 'bytes_out_total', kind: 'counter', help: 'Bytes sent to clients', value: (b) => b.backend.bout },
  {
    name: 'connection_errors_total',
    kind: 'counter',
    help: 'Failed connections to servers',
    value: (b) => b.backend.econ,
  },
  {
    name: 'retry_warnings_total',
    kind: 'counter',
    help: 'Connection retries',
    value: (b) => b.backend.wretr,
  },
  {
    name: 'redispatch_warnings_total',
    kind: 'counter',
    help: 'Redispatches to another server',
    value: (b) => b.backend.wredis,
  },
  {
    name: 'status',
    kind: 'gauge',
    help: 'Whether any server is usable, per state label value',
    value: (b) => stateSet(['DOWN', 'UP'], b.backend.status),
  },
  {
    name: 'weight',
    kind: 'gauge',
    help: 'Total weight of the usable servers',
    value: (b) => usableWeight(b.backend),
  },
  { name: 'active_servers', kind: 'gauge', help: 'Usable active servers', value: (b) => b.backend.act },
  { name: 'backup_servers', kind: 'gauge', help: 'Usable backup servers', value: (b) => b.backend.bck },
  {
    name: 'check_up_down_total',
    kind: 'counter',
    help: 'UP to DOWN transitions',
    value: (b) => b.backend.chkdown,
  },
  {
    name: 'check_last_change_seconds',
    kind: 'gauge',
    help: 'Seconds since the last state change',
    value: (b) => b.backend.lastchg,
  },
  {
    name: 'downtime_seconds_total',
    kind: 'counter',
    help: 'Seconds spent DOWN',
    value: (b) => b.backend.downtime,
  },
  {
    name: 'loadbalanced_total',
    kind: 'counter',
    help: 'Times a server was chosen by the balancer',
    value: (b) => b.backend.lbtot,
  },
  {
    name: 'max_session_rate',
    kind: 'gauge',
    help: 'Highest sessions per second seen',
    value: (b) => b.backend.rate_max,
  },
  {
    name: 'last_session_seconds',
    kind: 'gauge',
    help: 'Seconds since the last session started (-1: never)',
    value: (b) => b.lastsess,
  },
  {
    name: 'connection_attempts_total',
    kind: 'counter',
    help: 'Connection attempts to servers',
    value: (b) => b.backend.stot,
  },
  {
    name: 'uweight',
    kind: 'gauge',
    help: 'Total configured weight of the usable servers',
    value: (b) => usableWeight(b.backend),
  },
];

interface ServerItem {
  server: ServerStats;
  lastsess: number;
}

/** promex folds HAProxy's status words into five states. */
function serverState(server: ServerStats): (typeof SERVER_STATES)[number] {
  const word = serverStatus(server);
  if (word === 'MAINT') return 'MAINT';
  if (word.startsWith('DRAIN')) return 'DRAIN';
  return word.startsWith('DOWN') ? 'DOWN' : 'UP';
}

const checkState = (s: ServerStats): CheckStatus | '' => (s.adminState === 'maint' ? '' : s.check_status);

const checkedOnly = (s: ServerStats, value: number) => (s.checked ? value : NaN);

const SERVER_METRICS: Array<Metric<ServerItem>> = [
  { name: 'current_sessions', kind: 'gauge', help: 'Current sessions', value: (s) => s.server.scur },
  {
    name: 'max_sessions',
    kind: 'gauge',
    help: 'Most sessions at once since start',
    value: (s) => s.server.smax,
  },
  {
    name: 'limit_sessions',
    kind: 'gauge',
    help: 'Session limit (maxconn), NaN when unlimited',
    value: (s) => (s.server.slim > 0 ? s.server.slim : NaN),
  },
  { name: 'sessions_total', kind: 'counter', help: 'Sessions since start', value: (s) => s.server.stot },
  { name: 'bytes_in_total', kind: 'counter', help: 'Bytes sent to the server', value: (s) => s.server.bin },
  {
    name: 'bytes_out_total',
    kind: 'counter',
    help: 'Bytes received from the server',
    value: (s) => s.server.bout,
  },
  {
    name: 'connection_errors_total',
    kind: 'counter',
    help: 'Failed connections',
    value: (s) => s.server.econ,
  },
  { name: 'retry_warnings_total', kind: 'counter', help: 'Connection retries', value: (s) => s.server.wretr },
  {
    name: 'redispatch_warnings_total',
    kind: 'counter',
    help: 'Redispatches to another server',
    value: (s) => s.server.wredis,
  },
  {
    name: 'status',
    kind: 'gauge',
    help: 'Health and admin state combined, per state label value',
    value: (s) => stateSet(SERVER_STATES, serverState(s.server)),
  },
  { name: 'weight', kind: 'gauge', help: 'Configured weight', value: (s) => s.server.weight },
  {
    name: 'check_failures_total',
    kind: 'counter',
    help: 'Failed health checks',
    value: (s) => checkedOnly(s.server, s.server.chkfail),
  },
  {
    name: 'check_up_down_total',
    kind: 'counter',
    help: 'UP to DOWN transitions',
    value: (s) => checkedOnly(s.server, s.server.chkdown),
  },
  {
    name: 'check_last_change_seconds',
    kind: 'gauge',
    help: 'Seconds since the last state change',
    value: (s) => s.server.lastchg,
  },
  {
    name: 'downtime_seconds_total',
    kind: 'counter',
    help: 'Seconds spent DOWN',
    value: (s) => checkedOnly(s.server, s.server.downtime),
  },
  {
    name: 'loadbalanced_total',
    kind: 'counter',
    help: 'Times chosen by the balancer',
    value: (s) => s.server.lbtot,
  },
  {
    name: 'max_session_rate',
    kind: 'gauge',
    help: 'Highest sessions per second seen',
    value: (s) => s.server.rate_max,
  },
  {
    name: 'check_status',
    kind: 'gauge',
    help: 'Result of the last health check, per state label value',
    // Checks pause in MAINT: HAProxy then reports no check state at all.
    value: (s) => (s.server.checked ? stateSet(CHECK_STATES, checkState(s.server)) : []),
  },
  {
    name: 'check_duration_seconds',
    kind: 'gauge',
    help: 'Duration of the last health check',
    value: (s) =>
      s.server.checked && s.server.check_duration >= 0
        ? s.server.check_duration / 1000
        : s.server.checked
          ? 0
          : NaN,
  },
  {
    name: 'last_session_seconds',
    kind: 'gauge',
    help: 'Seconds since the last session started (-1: never)',
    value: (s) => s.lastsess,
  },
  {
    name: 'connection_attempts_total',
    kind: 'counter',
    help: 'Connection attempts',
    value: (s) => s.server.stot,
  },
  { name: 'uweight', kind: 'gauge', help: 'Configured weight', value: (s) => s.server.weight },
];

/** The whole /metrics answer. */
export function renderMetrics(stats: RuntimeStats, context: ShowStatContext = {}): string {
  const secondsAgo = (key: string) => {
    const at = context.lastSessionAt?.get(key);
    return at === undefined ? -1 : Math.max(0, Math.floor((stats.at - at) / 1000));
  };
  const servers: Array<ServerItem & { labels: Labels }> = stats.backends.flatMap((b) =>
    b.servers.map((server) => ({
      server,
      lastsess: secondsAgo(`${b.name}/${server.name}`),
      labels: { proxy: b.name, server: server.name },
    })),
  );
  const backends = stats.backends.map((backend) => {
    const seen = servers
      .filter((s) => s.server.backend === backend.name && s.lastsess >= 0)
      .map((s) => s.lastsess);
    return {
      backend,
      fullconn: backendFullconn(backend.name, stats.frontends),
      lastsess: seen.length > 0 ? Math.min(...seen) : -1,
      labels: { proxy: backend.name },
    };
  });
  const frontends = stats.frontends.map((f) => ({ ...f, labels: { proxy: f.name } }));
  return [
    ...FRONTEND_METRICS.map((m) => family('frontend', m, frontends)),
    ...BACKEND_METRICS.map((m) => family('backend', m, backends)),
    ...SERVER_METRICS.map((m) => family('server', m, servers)),
    renderCmppMetrics(stats),
    tetherMetrics(stats),
  ].join('');
}

/** Tether's own figures, outside HAProxy's names: accept errors (EMFILE/ENFILE) and worker processes (docs/workers.md). */
function tetherMetrics(stats: RuntimeStats): string {
  let out = '';
  const one = (name: string, kind: Kind, help: string, samples: Array<[Labels, number]>) => {
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${kind}\n`;
    for (const [labels, v] of samples) {
      out += `${name}${Object.keys(labels).length > 0 ? labelText(labels) : ''} ${formatValue(v)}\n`;
    }
  };
  const accept = stats.acceptErrors ?? { errors: 0, pauses: 0 };
  one(
    'tether_accept_errors_total',
    'counter',
    'Accepts that failed for want of file descriptors (EMFILE/ENFILE)',
    [[{}, accept.errors]],
  );
  one(
    'tether_accept_pauses_total',
    'counter',
    'Times a listener stopped accepting for a moment after such errors',
    [[{}, accept.pauses]],
  );
  const workers = stats.workers ?? [];
  if (workers.length === 0) return out;
  const each = (value: (w: (typeof workers)[number]) => number): Array<[Labels, number]> =>
    workers.map((w) => [{ worker: String(w.id) }, value(w)]);
  one(
    'tether_worker_up',
    'gauge',
    'Whether the worker process runs (1) or is starting (0)',
    each((w) => (w.state === 'running' ? 1 : 0)),
  );
  one(
    'tether_worker_pid',
    'gauge',
    'Process id of the worker',
    each((w) => w.pid),
  );
  one(
    'tether_worker_sessions',
    'gauge',
    'Live sessions in the worker at its last report',
    each((w) => w.sessions),
  );
  one(
    'tether_worker_rss_bytes',
    'gauge',
    'Resident memory of the worker process',
    each((w) => w.rssBytes),
  );
  one(
    'tether_worker_restarts_total',
    'counter',
    'Times the worker process was replaced after it died',
    each((w) => w.restarts),
  );
  one(
    'tether_worker_lost_sessions_total',
    'counter',
    'Sessions that died with the worker processes',
    each((w) => w.lostSessions),
  );
  return out;
}

function family<T>(scope: string, metric: Metric<T>, items: Array<T & { labels: Labels }>): string {
  const name = `haproxy_${scope}_${metric.name}`;
  let out = `# HELP ${name} ${metric.help}\n# TYPE ${name} ${metric.kind}\n`;
  for (const item of items) {
    const value = metric.value(item);
    const samples: Array<[Labels, number]> = typeof value === 'number' ? [[{}, value]] : value;
    for (const [extra, v] of samples)
      out += `${name}${labelText({ ...item.labels, ...extra })} ${formatValue(v)}\n`;
  }
  return out;
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  );
  return `{${pairs.join(',')}}`;
}

function formatValue(value: number): string {
  return Number.isNaN(value) ? 'NaN' : String(value);
}
