// Builds the plain-data stats views from live state: finished sessions' totals from the counters
// plus what live sessions have moved so far.
import { countUsable } from './availability.js';
import type { BackendRuntime, ServerRuntime } from './backend.js';
import { settleLive } from './cmpp-inspect.js';
import { type CmppCounters, cmppView, type Outstanding } from './cmpp-stats.js';
import type { FrontendRuntime } from './frontend.js';
import type { Session } from './session.js';
import type { RuntimeState } from './state.js';
import type { BackendStats, FrontendStats, RuntimeStats, ServerStats, StatsSample } from './types.js';

/** What the views read of the live state. */
export type StatsSource = Pick<
  RuntimeState,
  'frontends' | 'backends' | 'sessionMap' | 'snapshot' | 'cmppAccounts'
>;

interface Live {
  bin: number;
  bout: number;
  oldest: number;
}

function liveBytes(source: StatsSource): Map<object, Live> {
  const live = new Map<object, Live>();
  const add = (key: object, session: Session) => {
    const entry = live.get(key);
    if (entry === undefined) {
      live.set(key, { bin: session.bytesIn, bout: session.bytesOut, oldest: session.startedAt });
    } else {
      entry.bin += session.bytesIn;
      entry.bout += session.bytesOut;
      if (session.startedAt < entry.oldest) entry.oldest = session.startedAt;
    }
  };
  for (const session of source.sessionMap.values()) {
    add(session.frontend, session);
    add(session.backend, session);
    if (session.server !== null && session.server.sessions.has(session)) add(session.server, session);
  }
  return live;
}

const NONE: Live = { bin: 0, bout: 0, oldest: 0 };

/** The `cmpp` member of an inspected frontend's or server's view. */
function cmppOf(c: CmppCounters | null, outstanding: Map<CmppCounters, Outstanding>) {
  return c === null ? {} : { cmpp: cmppView(c, outstanding.get(c) ?? { up: 0, down: 0 }) };
}

export function buildStats(
  source: StatsSource,
  now: number,
  startedAt: number,
  withAccounts = true,
): RuntimeStats {
  const live = liveBytes(source);
  const outstanding = settleLive(source.sessionMap.values());
  const frontends: FrontendStats[] = [];
  for (const frontend of source.frontends.values()) {
    frontends.push(frontendView(source, frontend, live.get(frontend) ?? NONE, now, outstanding));
  }
  const backends: BackendStats[] = [];
  for (const backend of source.backends.values()) {
    const servers = backend.servers.map((s) => ({
      ...serverStats(backend, s, live.get(s) ?? NONE, now),
      ...cmppOf(s.cmpp, outstanding),
    }));
    const c = backend.counters;
    const l = live.get(backend) ?? NONE;
    const sum = (field: 'econ' | 'wretr' | 'wredis' | 'lbtot') =>
      servers.reduce((total, s) => total + s[field], 0);
    backends.push({
      name: backend.name,
      balance: backend.config.balance,
      status: backend.up ? 'UP' : 'DOWN',
      scur: c.scur,
      smax: c.smax,
      stot: c.stot,
      bin: c.bin + l.bin,
      bout: c.bout + l.bout,
      econ: sum('econ'),
      wretr: sum('wretr'),
      wredis: sum('wredis'),
      lbtot: sum('lbtot'),
      // The backend's own UP→DOWN transitions (HAProxy's backend chkdown), not its servers' sum.
      chkdown: backend.downCount,
      lastchg: Math.floor((now - backend.lastChangeAt) / 1000),
      downtime: Math.floor(backend.downtime(now) / 1000),
      rate: c.rate.rate(now),
      rate_max: c.rate.max,
      ...countUsable(backend),
      servers,
    });
  }
  const cmppAccounts =
    withAccounts && source.cmppAccounts.size > 0
      ? { cmppAccounts: source.cmppAccounts.view(outstanding, now) }
      : {};
  return { at: now, uptime: Math.floor((now - startedAt) / 1000), frontends, backends, ...cmppAccounts };
}

/** One frontend's view; `live` is what its live sessions have moved so far. */
function frontendView(
  source: StatsSource,
  frontend: FrontendRuntime,
  l: Live,
  now: number,
  outstanding: Map<CmppCounters, Outstanding>,
): FrontendStats {
  const c = frontend.counters;
  const config = frontend.config;
  return {
    name: config.name,
    backend: config.backend,
    status: !config.enabled ? 'STOP' : frontend.listensOnAll() ? 'OPEN' : 'FAILED',
    ...(frontend.error ? { error: frontend.error } : {}),
    ...(frontend.retry
      ? { retry: { attempts: frontend.retry.attempts, nextAt: frontend.retry.nextAt } }
      : {}),
    bind: { address: config.bind.address, port: config.bind.port },
    binds: config.binds.map((b) => ({ address: b.address, port: b.port })),
    scur: c.scur,
    smax: c.smax,
    slim: config.maxconn ?? source.snapshot.defaults.maxconn,
    stot: c.stot,
    bin: c.bin + l.bin,
    bout: c.bout + l.bout,
    denied: c.denied,
    noServer: c.noServer,
    rate: c.rate.rate(now),
    rate_max: c.rate.max,
    ...cmppOf(frontend.cmpp, outstanding),
  };
}

/** One frontend's stats (a retry's answer), its live sessions' bytes included. */
export function frontendStats(source: StatsSource, frontend: FrontendRuntime, now: number): FrontendStats {
  const outstanding = settleLive(source.sessionMap.values());
  return frontendView(source, frontend, liveBytes(source).get(frontend) ?? NONE, now, outstanding);
}

function serverStatus(backend: BackendRuntime, server: ServerRuntime): string {
  if (server.adminState === 'maint') return 'MAINT';
  const checker = server.checker;
  if (server.health === 'DOWN') {
    const rising = checker?.consecutiveSuccesses ?? 0;
    return rising > 0 ? `DOWN ${rising}/${checker!.rise}` : 'DOWN';
  }
  if (server.adminState === 'drain') return 'DRAIN';
  if (!checker) return 'no check';
  const falling = checker.consecutiveFailures;
  return falling > 0 ? `UP ${falling}/${checker.fall}` : 'UP';
}

function serverStats(backend: BackendRuntime, server: ServerRuntime, live: Live, now: number): ServerStats {
  const c = server.counters;
  const checker = server.checker;
  const result = checker?.lastResult;
  return {
    backend: backend.name,
    name: server.config.name,
    address: server.config.address,
    ...(server.ip !== server.config.address ? { resolved: server.ip } : {}),
    port: server.config.port,
    status: serverStatus(backend, server),
    health: server.health,
    adminState: server.adminState,
    checked: checker !== undefined,
    weight: server.config.weight,
    backup: server.config.backup,
    scur: server.sessions.size,
    smax: c.smax,
    slim: server.config.maxconn ?? 0,
    stot: c.stot,
    bin: c.bin + live.bin,
    bout: c.bout + live.bout,
    econ: c.econ,
    wretr: c.wretr,
    wredis: c.wredis,
    lbtot: c.lbtot,
    chkfail: server.chkfailBase + (checker?.chkfail ?? 0),
    chkdown: server.chkdownBase + (checker?.chkdown ?? 0),
    lastchg: Math.floor((now - server.lastChangeAt) / 1000),
    lastChangeAt: server.lastChangeAt,
    downtime: Math.floor((server.downtimeBaseMs + (checker?.downtimeMs ?? 0)) / 1000),
    rate: c.rate.rate(now),
    rate_max: c.rate.max,
    check_status: server.dnsError ? 'L4CON' : checker ? (result?.status ?? 'INI') : '',
    check_duration: result?.durationMs ?? -1,
    check_desc: server.dnsError ?? result?.description ?? '',
    ...(result?.code !== undefined && !server.dnsError && checker && { check_code: result.code }),
    lastCheckAt: checker?.lastCheckAt ?? 0,
    oldestSessionAge: server.sessions.size > 0 && live.oldest > 0 ? now - live.oldest : 0,
  };
}

export function takeSample(source: StatsSource, now: number): StatsSample {
  const live = liveBytes(source);
  const sample: StatsSample = { t: now, frontends: {}, servers: {} };
  for (const frontend of source.frontends.values()) {
    const c = frontend.counters;
    const l = live.get(frontend) ?? NONE;
    sample.frontends[frontend.name] = {
      scur: c.scur,
      stot: c.stot,
      bin: c.bin + l.bin,
      bout: c.bout + l.bout,
    };
  }
  for (const backend of source.backends.values()) {
    for (const server of backend.servers) {
      const c = server.counters;
      const l = live.get(server) ?? NONE;
      sample.servers[server.key] = {
        scur: server.sessions.size,
        stot: c.stot,
        bin: c.bin + l.bin,
        bout: c.bout + l.bout,
      };
    }
  }
  return sample;
}
