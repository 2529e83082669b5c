// Renders the runtime's stats as HAProxy 2.6 `show stat` CSV, so existing HAProxy tooling reads Tether.
// Which columns are filled for which row type follows HAProxy 2.6 in TCP mode (src/stats.c, checked
// against a real haproxy in test/stats/haproxy-csv.test.ts); a column HAProxy leaves empty stays empty.
import { DEFAULT_CHECK } from '../schema/snapshot.js';
import type {
  BackendStats,
  CheckStatus,
  FrontendStats,
  RuntimeStats,
  ServerStats,
} from '../runtime/types.js';
import {
  H1_H2_MODULE_COLUMNS,
  HAPROXY_26_COLUMNS,
  HAPROXY_26_HEADER,
  SSL_MODULE_COLUMNS,
  type HaproxyColumn,
} from './haproxy-columns.js';

type Row = Partial<Record<HaproxyColumn, string | number>>;

export interface CheckSettings {
  rise: number;
  fall: number;
}

export interface ShowStatContext {
  /** Check rise/fall per backend name, for check_rise, check_fall and check_health. */
  checks?: ReadonlyMap<string, CheckSettings>;
  /** Epoch ms of the latest session per "backend/server", for lastsess. */
  lastSessionAt?: ReadonlyMap<string, number>;
}

/** HAProxy's get_check_status_description(). */
const CHECK_DESCRIPTIONS: Record<CheckStatus, string> = {
  INI: 'Initializing',
  SOCKERR: 'Socket error',
  L4OK: 'Layer4 check passed',
  L4TOUT: 'Layer4 timeout',
  L4CON: 'Layer4 connection problem',
  L7OK: 'Layer7 check passed',
  L7RSP: 'Layer7 invalid response',
  L7TOUT: 'Layer7 timeout',
  L7STS: 'Layer7 wrong status',
};

/** Counters a TCP proxy never moves but HAProxy still prints as 0 on that row type. */
const ZERO_ON_EVERY_ROW: HaproxyColumn[] = ['dresp', 'eint', 'wrew', ...SSL_MODULE_COLUMNS];
// prettier-ignore
const ZERO_ON_FRONTEND: HaproxyColumn[] = [
  'dreq', 'ereq', 'rate_lim', 'req_rate', 'req_rate_max', 'req_tot', 'dses',
  'comp_in', 'comp_out', 'comp_byp', 'comp_rsp', ...H1_H2_MODULE_COLUMNS,
];
// prettier-ignore
const ZERO_ON_SERVER: HaproxyColumn[] = [
  'qcur', 'qmax', 'eresp', 'cli_abrt', 'srv_abrt', 'qtime', 'ctime', 'rtime', 'ttime', 'reuse', 'srv_icur',
  'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'idle_conn_cur', 'safe_conn_cur', 'used_conn_cur',
  'need_conn_est',
];
// prettier-ignore
const ZERO_ON_BACKEND: HaproxyColumn[] = [
  'qcur', 'qmax', 'dreq', 'eresp', 'cli_abrt', 'srv_abrt', 'comp_in', 'comp_out', 'comp_byp', 'comp_rsp',
  'qtime', 'ctime', 'rtime', 'ttime', 'reuse', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max',
  'agg_server_status', 'agg_server_check_status', 'agg_check_status', ...H1_H2_MODULE_COLUMNS,
];

/** The whole `show stat` answer: header, then per proxy its FRONTEND row, or its server rows and BACKEND row. */
export function renderShowStat(stats: RuntimeStats, context: ShowStatContext = {}): string {
  const lines = [HAPROXY_26_HEADER];
  let iid = 0;
  for (const frontend of stats.frontends) lines.push(toLine(frontendRow(frontend, ++iid)));
  for (const backend of stats.backends) {
    iid++;
    const check = context.checks?.get(backend.name);
    const lastSessions: number[] = [];
    backend.servers.forEach((server, index) => {
      const lastsess = secondsSince(stats.at, context.lastSessionAt?.get(`${backend.name}/${server.name}`));
      if (lastsess >= 0) lastSessions.push(lastsess);
      lines.push(toLine(serverRow(server, { iid, sid: index + 1, lastsess, check })));
    });
    const fullconn = backendFullconn(backend.name, stats.frontends);
    const lastsess = lastSessions.length > 0 ? Math.min(...lastSessions) : -1;
    lines.push(toLine(backendRow(backend, { iid, fullconn, lastsess })));
  }
  return lines.join('\n') + '\n';
}

function frontendRow(fe: FrontendStats, iid: number): Row {
  return {
    ...zeros(ZERO_ON_EVERY_ROW, ZERO_ON_FRONTEND),
    pxname: fe.name,
    svname: 'FRONTEND',
    scur: fe.scur,
    smax: fe.smax,
    slim: fe.slim,
    stot: fe.stot,
    bin: fe.bin,
    bout: fe.bout,
    status: frontendStatus(fe),
    pid: 1,
    iid,
    sid: 0,
    type: 0,
    rate: fe.rate,
    rate_max: fe.rate_max,
    mode: 'tcp',
    // Tether meters sessions, not raw accepts; a refused connection is one HAProxy would count too.
    conn_rate: fe.rate,
    conn_rate_max: fe.rate_max,
    conn_tot: fe.stot + fe.denied,
    dcon: fe.denied,
    '-': '-',
  };
}

/** HAProxy has no failed-bind state (it refuses to start); a frontend that isn't listening is STOP. */
function frontendStatus(fe: FrontendStats): string {
  if (fe.status !== 'OPEN') return 'STOP';
  return fe.slim > 0 && fe.scur >= fe.slim ? 'FULL' : 'OPEN';
}

interface ServerPlace {
  iid: number;
  sid: number;
  lastsess: number;
  check?: CheckSettings;
}

function serverRow(sv: ServerStats, place: ServerPlace): Row {
  const row: Row = {
    ...zeros(ZERO_ON_EVERY_ROW, ZERO_ON_SERVER),
    pxname: sv.backend,
    svname: sv.name,
    scur: sv.scur,
    smax: sv.smax,
    slim: sv.slim > 0 ? sv.slim : '',
    stot: sv.stot,
    bin: sv.bin,
    bout: sv.bout,
    econ: sv.econ,
    wretr: sv.wretr,
    wredis: sv.wredis,
    status: serverStatus(sv),
    weight: sv.weight,
    act: sv.backup ? 0 : 1,
    bck: sv.backup ? 1 : 0,
    lastchg: sv.lastchg,
    pid: 1,
    iid: place.iid,
    sid: place.sid,
    lbtot: sv.lbtot,
    type: 2,
    rate: sv.rate,
    rate_max: sv.rate_max,
    lastsess: place.lastsess,
    // HAProxy shows the address a host name resolved to.
    addr: formatAddress(sv.resolved || sv.address, sv.port),
    mode: 'tcp',
    connect: sv.stot,
    uweight: sv.weight,
    '-': '-',
  };
  if (sv.checked) Object.assign(row, checkColumns(sv, place.check));
  return row;
}

/** Check columns, filled only for servers with checks enabled; in MAINT checks pause and only the tallies show. */
function checkColumns(sv: ServerStats, settings: CheckSettings | undefined): Row {
  const tallies: Row = { chkfail: sv.chkfail, chkdown: sv.chkdown, downtime: sv.downtime };
  if (sv.adminState === 'maint') return tallies;
  const transition = /^(UP|DOWN) (\d+)\/(\d+)$/.exec(sv.status);
  const rise = settings?.rise ?? (transition?.[1] === 'DOWN' ? Number(transition[3]) : DEFAULT_CHECK.rise);
  const fall = settings?.fall ?? (transition?.[1] === 'UP' ? Number(transition[3]) : DEFAULT_CHECK.fall);
  const status = sv.check_status;
  const passed = status === 'L4OK' || status === 'L7OK';
  return {
    ...tallies,
    check_status: status,
    check_code: sv.check_code ?? '',
    check_duration: sv.check_duration >= 0 && status !== 'INI' ? sv.check_duration : '',
    check_desc: status ? CHECK_DESCRIPTIONS[status] : '',
    // HAProxy's last_chk is the probe's own text ("Connection refused"), empty after a plain pass.
    last_chk: passed ? '' : sv.check_desc,
    check_rise: rise,
    check_fall: fall,
    check_health: checkHealth(sv, transition, rise, fall),
  };
}

/** HAProxy's health counter: 0 is DOWN, rise+fall-1 is fully UP; 'UP a/fall' and 'DOWN a/rise' are in between. */
function checkHealth(
  sv: ServerStats,
  transition: RegExpExecArray | null,
  rise: number,
  fall: number,
): number {
  if (transition) return transition[1] === 'UP' ? Number(transition[2]) + rise - 1 : Number(transition[2]);
  return sv.health === 'UP' ? rise + fall - 1 : 0;
}

/** HAProxy's words: MAINT over everything, DRAIN replaces UP (keeping 'a/b'), 'no check' for unchecked UP. */
export function serverStatus(sv: ServerStats): string {
  if (sv.adminState === 'maint') return 'MAINT';
  const transition = /^(UP|DOWN) (\d+\/\d+)$/.exec(sv.status);
  const base = !sv.checked ? sv.health : transition ? sv.status : sv.health;
  if (base.startsWith('UP') && sv.adminState === 'drain') return 'DRAIN' + base.slice(2);
  if (base === 'UP' && !sv.checked) return 'no check';
  return base;
}

interface BackendPlace {
  iid: number;
  fullconn: number;
  lastsess: number;
}

function backendRow(be: BackendStats, place: BackendPlace): Row {
  return {
    ...zeros(ZERO_ON_EVERY_ROW, ZERO_ON_BACKEND),
    pxname: be.name,
    svname: 'BACKEND',
    scur: be.scur,
    smax: be.smax,
    slim: place.fullconn,
    stot: be.stot,
    bin: be.bin,
    bout: be.bout,
    econ: be.econ,
    wretr: be.wretr,
    wredis: be.wredis,
    status: be.status,
    weight: usableWeight(be),
    act: be.act,
    bck: be.bck,
    chkdown: be.chkdown,
    lastchg: be.lastchg,
    downtime: be.downtime,
    pid: 1,
    iid: place.iid,
    sid: 0,
    lbtot: be.lbtot,
    type: 1,
    rate: be.rate,
    rate_max: be.rate_max,
    lastsess: place.lastsess,
    mode: 'tcp',
    algo: be.balance,
    connect: be.stot,
    uweight: usableWeight(be),
    '-': '-',
  };
}

/** HAProxy's backend weight: total weight of the usable active servers, or of the backups when none is. */
export function usableWeight(be: BackendStats): number {
  const usable = be.servers.filter(
    (s) => s.adminState === 'ready' && s.weight > 0 && (s.health === 'UP' || !s.checked),
  );
  const active = usable.filter((s) => !s.backup);
  return (active.length > 0 ? active : usable).reduce((sum, s) => sum + s.weight, 0);
}

/** HAProxy's default fullconn: a tenth of the maxconns of the frontends using the backend, at least 1. */
export function backendFullconn(backend: string, frontends: FrontendStats[]): number {
  const total = frontends.filter((f) => f.backend === backend).reduce((sum, f) => sum + f.slim, 0);
  return Math.max(1, Math.floor((total + 9) / 10));
}

function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function secondsSince(now: number, at: number | undefined): number {
  return at === undefined ? -1 : Math.max(0, Math.floor((now - at) / 1000));
}

function zeros(...lists: HaproxyColumn[][]): Row {
  const row: Row = {};
  for (const list of lists) for (const column of list) row[column] = 0;
  return row;
}

function toLine(row: Row): string {
  return HAPROXY_26_COLUMNS.map((column) => csvField(row[column])).join(',') + ',';
}

/** HAProxy's csv_enc(): quote only when the text would otherwise break the line. */
function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  if (!/[",\r\n]/.test(text) && text.trim() === text) return text;
  return `"${text.replace(/"/g, '""')}"`;
}
