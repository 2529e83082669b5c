// Answers of the read-only CLI commands in HAProxy 2.6's formats (`show info`, `show servers state`,
// `show backend`, `show sess`, `show errors`), built from the runtime's plain stats and sessions.
import type { Snapshot } from '../schema/snapshot.js';
import { HAPROXY_26_COLUMNS } from '../stats/haproxy-columns.js';
import type { CheckStatus, RuntimeStats, ServerStats, SessionInfo } from '../runtime/types.js';

export interface ProcessInfo {
  version: string;
  pid: number;
  startedAt: number; // epoch ms
  maxconn: number;
}

/** `show info`: HAProxy's keys in HAProxy's order; what Tether doesn't measure is 0 or empty. */
export function renderShowInfo(stats: RuntimeStats, info: ProcessInfo, now: number): string {
  const uptime = Math.max(0, Math.floor((now - info.startedAt) / 1000));
  const sum = (pick: (f: RuntimeStats['frontends'][number]) => number) =>
    stats.frontends.reduce((total, f) => total + pick(f), 0);
  const bytesOut = sum((f) => f.bout);
  // HAProxy's Listeners are listening sockets: every bind of an OPEN frontend (a FAILED one's binds that do
  // listen are not told apart in the stats, so it counts none; a disabled one listens on none).
  const listeners = stats.frontends.reduce((n, f) => (f.status === 'OPEN' ? n + f.binds.length : n), 0);
  const conns = sum((f) => f.scur);
  const values: Array<[string, string | number]> = [
    ['Name', 'Tether'],
    ['Version', info.version],
    ['Release_date', ''],
    ['Nbthread', 1],
    ['Nbproc', 1],
    ['Process_num', 1],
    ['Pid', info.pid],
    ['Uptime', formatUptime(uptime)],
    ['Uptime_sec', uptime],
    ['Memmax_MB', 0],
    ['PoolAlloc_MB', 0],
    ['PoolUsed_MB', 0],
    ['PoolFailed', 0],
    ['Ulimit-n', 0],
    ['Maxsock', 0],
    ['Maxconn', info.maxconn],
    ['Hard_maxconn', info.maxconn],
    ['CurrConns', conns],
    ['CumConns', sum((f) => f.stot + f.denied)],
    ['CumReq', sum((f) => f.stot)],
    ...zeros('MaxSslConns CurrSslConns CumSslConns Maxpipes PipesUsed PipesFree'),
    ['ConnRate', sum((f) => f.rate)],
    ['ConnRateLimit', 0],
    ['MaxConnRate', sum((f) => f.rate_max)],
    ['SessRate', sum((f) => f.rate)],
    ['SessRateLimit', 0],
    ['MaxSessRate', sum((f) => f.rate_max)],
    ...zeros(
      'SslRate SslRateLimit MaxSslRate SslFrontendKeyRate SslFrontendMaxKeyRate SslFrontendSessionReuse_pct ' +
        'SslBackendKeyRate SslBackendMaxKeyRate SslCacheLookups SslCacheMisses CompressBpsIn CompressBpsOut ' +
        'CompressBpsRateLim Tasks Run_queue',
    ),
    ['Idle_pct', 100],
    ['node', ''],
    ['Stopping', 0],
    ['Jobs', conns + listeners],
    ['Unstoppable Jobs', 0],
    ['Listeners', listeners],
    ...zeros('ActivePeers ConnectedPeers DroppedLogs BusyPolling FailedResolutions'),
    ['TotalBytesOut', bytesOut],
    ['TotalSplicdedBytesOut', 0],
    ['BytesOutRate', 0],
    ['DebugCommandsIssued', 0],
    ['CumRecvLogs', 0],
    ['Build info', info.version],
    ...zeros('Memmax_bytes PoolAlloc_bytes PoolUsed_bytes'),
    ['Start_time_sec', Math.floor(info.startedAt / 1000)],
    ['Tainted', 0],
  ];
  return values.map(([key, value]) => `${key}: ${value}\n`).join('');
}

function zeros(keys: string): Array<[string, number]> {
  return keys.split(' ').map((key) => [key, 0]);
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${d}d ${h}h${pad(m)}m${pad(s)}s`;
}

const SERVERS_STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight ' +
  'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state ' +
  'srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port ' +
  'srv_check_addr srv_agent_addr srv_agent_port';

/** HAProxy 2.6's numbers of the check statuses (enum healthcheck_status, as `show servers state` prints them). */
const CHECK_STATUS_CODES: Record<CheckStatus, number> = {
  INI: 1,
  SOCKERR: 5,
  L4OK: 6,
  L4TOUT: 7,
  L4CON: 8,
  L7TOUT: 12,
  L7RSP: 13,
  L7OK: 15,
  L7STS: 17,
};

/**
 * `show servers state [<backend>]`: the format version line, the header, one line per server; undefined when
 * the backend is not known (HAProxy: "Can't find backend."). Proxy ids follow `show stat`'s iid numbering.
 */
/** `show drains`: Tether's own command (HAProxy has none), laid out like `show servers state` (docs/runtime-socket.md). */
export const DRAINS_HEADER =
  '# be_name srv_name started_at deadline_at then sessions_left oldest_session_age_ms time_left_ms closed_at closed';

/**
 * One line per server in drain (times in epoch ms; `-` for none): when the drain started, its deadline, where it
 * goes when no session is left (`-`: a plain drain, it stays drain), sessions left, the oldest's age, time left, and
 * when the deadline closed how many. undefined when `backend` names no backend.
 */
export function renderDrains(stats: RuntimeStats, backend?: string): string | undefined {
  if (backend !== undefined && !stats.backends.some((b) => b.name === backend)) return undefined;
  const lines = ['1', DRAINS_HEADER];
  const or = (value: number | string | null) => (value === null ? '-' : value);
  for (const be of stats.backends) {
    if (backend !== undefined && be.name !== backend) continue;
    for (const sv of be.servers) {
      const d = sv.drain;
      if (sv.adminState !== 'drain' || d === undefined) continue;
      lines.push(
        [
          be.name,
          sv.name,
          d.startedAt,
          or(d.deadlineAt),
          or(d.then),
          d.sessionsLeft,
          d.oldestSessionAgeMs,
          or(d.timeLeftMs),
          or(d.closedAt),
          d.closed,
        ].join(' '),
      );
    }
  }
  return lines.join('\n') + '\n';
}

export function renderServersState(
  stats: RuntimeStats,
  snapshot: Snapshot,
  backend?: string,
): string | undefined {
  if (backend !== undefined && !stats.backends.some((b) => b.name === backend)) return undefined;
  const lines = ['1', SERVERS_STATE_HEADER];
  stats.backends.forEach((be, index) => {
    if (backend !== undefined && be.name !== backend) return;
    const beId = stats.frontends.length + index + 1;
    const configured = snapshot.backends.find((b) => b.name === be.name);
    const check = configured?.check;
    const checkPorts = new Map(configured?.servers.map((s) => [s.name, s.checkPort]));
    be.servers.forEach((sv, sIndex) => {
      const health = !sv.checked ? 0 : sv.health === 'UP' ? (check?.rise ?? 2) + (check?.fall ?? 3) - 1 : 0;
      const fields = [
        beId,
        be.name,
        sIndex + 1,
        sv.name,
        sv.resolved || sv.address,
        opState(sv),
        adminStateBits(sv),
        sv.weight,
        sv.weight,
        sv.lastchg,
        sv.checked && sv.check_status ? CHECK_STATUS_CODES[sv.check_status] : 1,
        !sv.checked ? 0 : sv.health === 'UP' ? 3 : 2,
        sv.checked ? health : sv.health === 'UP' ? 2 : 0,
        sv.checked ? 6 : 0,
        0,
        0,
        0,
        sv.resolved ? sv.address : '-',
        sv.port,
        '-',
        0,
        // srv_check_port: the server's `port` (checkPort), 0 when checks go to its own port, as HAProxy prints it.
        checkPorts.get(sv.name) ?? 0,
        '-',
        '-',
        0,
      ];
      lines.push(fields.join(' '));
    });
  });
  return lines.join('\n') + '\n';
}

/** SRV_ST_STOPPED 0, SRV_ST_RUNNING 2. */
function opState(sv: ServerStats): number {
  if (sv.adminState === 'maint') return 0;
  return sv.health === 'UP' ? 2 : 0;
}

/** SRV_ADMF_FMAINT 0x01, SRV_ADMF_FDRAIN 0x08: the states the CLI forces. */
function adminStateBits(sv: ServerStats): number {
  if (sv.adminState === 'maint') return 1;
  if (sv.adminState === 'drain') return 8;
  return 0;
}

/** `show backend`. */
export function renderBackends(snapshot: Snapshot): string {
  return ['# name', ...snapshot.backends.map((b) => b.name)].join('\n') + '\n';
}

/** `show errors`: Tether keeps no captured protocol errors (TCP mode), so the count is always 0. */
export function renderShowErrors(now: number): string {
  return `Total events captured on [${haproxyDate(now, false)}] : 0\n`;
}

/**
 * Worker processes number their sessions `w<worker>:<n>` (docs/workers.md): the worker goes into the high bits,
 * `(worker + 1) × 2^36 + n`, so every id is one `0x…` number as HAProxy shows a stream, and the pointer a script
 * copies from `show sess` names the session again in `show sess <ptr>` and `shutdown session <ptr>`. One process's
 * ids are plain numbers below 2^36.
 */
const WORKER_SHIFT = 2 ** 36;

/** A session's id as HAProxy shows a stream: `0x` and hexadecimal digits. */
export function sessionPointer(id: string): string {
  const pooled = /^w(\d{1,5}):(\d{1,11})$/.exec(id);
  const n = pooled ? (Number(pooled[1]) + 1) * WORKER_SHIFT + Number(pooled[2]) : Number(id);
  const fits = pooled ? Number(pooled[2]) < WORKER_SHIFT : n < WORKER_SHIFT;
  return fits && Number.isSafeInteger(n) && n >= 0 ? `0x${n.toString(16)}` : id;
}

/** The session id a `0x…` pointer names, undefined when the text is not such a pointer. */
export function sessionIdOf(pointer: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{1,14}$/.test(pointer)) return undefined;
  const n = parseInt(pointer.slice(2), 16);
  if (!Number.isSafeInteger(n)) return undefined;
  if (n < WORKER_SHIFT) return String(n);
  return `w${Math.floor(n / WORKER_SHIFT) - 1}:${n % WORKER_SHIFT}`;
}

/**
 * HAProxy's `id=` in `show sess <ptr>` is the stream's uniq_id, a decimal counter (`id=%u`). A worker's session
 * `w<worker>:<n>` shows its own counter n, as each process of a multi-process HAProxy counted its own streams;
 * the pointer before it tells the worker apart.
 */
export function sessionUniqueId(id: string): string {
  const pooled = /^w\d{1,5}:(\d{1,11})$/.exec(id);
  return pooled ? pooled[1]! : id;
}

/** `show sess`: one line per session, HAProxy's keys; what Tether doesn't track is left neutral. */
export function renderSessions(sessions: SessionInfo[], now: number): string {
  return sessions
    .map(
      (s) =>
        `${sessionPointer(s.id)}: proto=${proto(s.clientAddress)} src=${address(s.clientAddress, s.clientPort)} ` +
        `fe=${s.frontend} be=${s.backend} srv=${s.server ?? '<none>'} ts=00 epoch=0 ` +
        `age=${ageText(now - s.startedAt)} calls=0 rate=0 cpu=0 lat=0 ` +
        `rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] ` +
        `scf=[8,0h,fd=-1] scb=[8,0h,fd=-1] exp= rc=0 c_exp=\n`,
    )
    .join('');
}

/** `show sess <id>` (and `show sess all`): the head of HAProxy's detailed dump. */
export function renderSessionDetail(s: SessionInfo, snapshot: Snapshot): string {
  const feIndex = snapshot.frontends.findIndex((f) => f.name === s.frontend);
  const beIndex = snapshot.backends.findIndex((b) => b.name === s.backend);
  const be = snapshot.backends[beIndex];
  const srvId = be && s.server ? be.servers.findIndex((sv) => sv.name === s.server) + 1 : -1;
  const fe = snapshot.frontends[feIndex];
  return (
    `${sessionPointer(s.id)}: [${haproxyDate(s.startedAt, true)}] id=${sessionUniqueId(s.id)} proto=${proto(s.clientAddress)} ` +
    `source=${address(s.clientAddress, s.clientPort)}\n` +
    `  flags=0x0, conn_retries=0, conn_exp=<NEVER> conn_et=0x000 srv_conn=(nil), pend_pos=(nil) waiting=0 epoch=0\n` +
    `  frontend=${s.frontend} (id=${feIndex + 1} mode=tcp), listener=? (id=1) addr=${fe ? address(fe.bind.address, fe.bind.port) : '?'}\n` +
    `  backend=${s.backend} (id=${beIndex < 0 ? -1 : snapshot.frontends.length + beIndex + 1} mode=tcp)\n` +
    `  server=${s.server ?? '<NONE>'} (id=${srvId})\n` +
    `  bytes in=${s.bytesIn} out=${s.bytesOut} state=${s.state}\n`
  );
}

function proto(addr: string): string {
  return addr.includes(':') ? 'tcpv6' : 'tcpv4';
}

function address(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function ageText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** HAProxy's local date: 05/Dec/2026:13:01:14.586 (microseconds when `micro`). */
function haproxyDate(at: number, micro: boolean): string {
  const d = new Date(at);
  const fraction = micro ? String(d.getMilliseconds() * 1000).padStart(6, '0') : pad(d.getMilliseconds(), 3);
  return (
    `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${fraction}`
  );
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

const COLUMN = {
  pxname: HAPROXY_26_COLUMNS.indexOf('pxname'),
  status: HAPROXY_26_COLUMNS.indexOf('status'),
  iid: HAPROXY_26_COLUMNS.indexOf('iid'),
  sid: HAPROXY_26_COLUMNS.indexOf('sid'),
  type: HAPROXY_26_COLUMNS.indexOf('type'),
};

/**
 * `show stat [{<iid>|<proxy>} <type> <sid>] [up|no-maint]` on the CSV: HAProxy's filters. `type` is a mask
 * (1 frontends, 2 backends, 4 servers, -1 all), `sid` picks one server by its id, `up` keeps only the servers
 * that are up, `no-maint` drops those in maintenance. undefined when the proxy is not known ("No such proxy.").
 * The columns read (up to `type`) never hold a quoted comma, so a plain split finds them.
 */
export function filterShowStat(csv: string, args: string[]): string | undefined {
  const words = args.filter((a) => a !== 'up' && a !== 'no-maint' && a !== 'desc');
  const filter = words.length >= 3 ? words.slice(0, 3) : undefined;
  const up = args.includes('up');
  const noMaint = args.includes('no-maint');
  if (!filter && !up && !noMaint) return csv;
  const [header, ...rows] = csv.split('\n').filter((l) => l !== '');
  const proxy = filter?.[0] ?? '-1';
  const byId = /^-?\d+$/.test(proxy);
  if (!byId && !rows.some((r) => r.split(',', 1)[0] === proxy)) return undefined;
  const mask = filter ? parseInt(filter[1], 10) || 0 : -1;
  const sid = filter ? parseInt(filter[2], 10) : -1;
  const kept = rows.filter((row) => {
    const f = row.split(',', COLUMN.type + 1);
    if (proxy !== '-1' && (byId ? f[COLUMN.iid] !== proxy : f[COLUMN.pxname] !== proxy)) return false;
    const type = Number(f[COLUMN.type]);
    if ((mask & (1 << type)) === 0) return false;
    if (type !== 2) return true;
    if (sid !== -1 && !Number.isNaN(sid) && Number(f[COLUMN.sid]) !== sid) return false;
    const status = f[COLUMN.status];
    if (up && !/^(UP|DRAIN|no check)/.test(status)) return false;
    if (noMaint && status === 'MAINT') return false;
    return true;
  });
  return [header, ...kept].join('\n') + '\n';
}
