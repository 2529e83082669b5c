// The proxies read from haproxy.cfg → one Tether snapshot. Here the two models meet: HAProxy sets
// check parameters per server, Tether once per backend, so the first value found is kept and every other
// one that differs is warned about. Timeouts are per section in both (section-timeouts.ts).
import { isIP } from 'node:net';
import { canonicalIp } from '../schema/addresses.js';
import { isHost } from '../schema/addresses.js';
import {
  DEFAULT_DEFAULTS,
  type Backend,
  type BackendCheck,
  type Frontend,
  type Server,
  type Snapshot,
} from '../schema/snapshot.js';
import type { Statement } from './lines.js';
import type { Findings, GlobalSettings } from './parse.js';
import { isBackendSide, isFrontendSide, type ProxyState, type ServerDraft } from './proxy.js';
import { stepsOf } from './health-check.js';
import { retriesOf } from './retries.js';
import { sectionTimeouts } from './section-timeouts.js';
import { tetherName } from './values.js';

/** HAProxy's own check defaults (a server line with `check` and no `inter`/`fall`/`rise`). */
const HAPROXY_CHECK = { inter: 2000, fall: 3, rise: 2 };

/** A server the file keeps out with `disabled`: it goes into maint with the import (an admin state, not config). */
export interface DisabledServer {
  backend: string;
  server: string;
  line: number;
}

export function assemble(
  proxies: ProxyState[],
  global: GlobalSettings,
  findings: Findings,
  disabled: DisabledServer[] = [],
): Snapshot {
  const leftOut = new Set<string>();
  const tcp = proxies.filter((p) => {
    const mode = p.mode?.value ?? 'tcp';
    if (mode === 'tcp') return true;
    leftOut.add(p.name);
    findings.strictly(
      p.at,
      `${p.kind} "${p.name}" is in \`mode ${mode}\`${p.mode && p.mode.at !== p.at ? ` (line ${p.mode.at.line})` : ''}: Tether is a TCP load balancer, the section is left out`,
    );
    return false;
  });

  const backendNames = new NameMap('backend', findings);
  const backends: Backend[] = [];
  const backendProxies: Array<[Backend, ProxyState]> = [];
  const backendOf = new Map<string, string>();
  for (const proxy of tcp.filter(isBackendSide)) {
    if (proxy.kind === 'listen' && proxy.servers.length === 0 && proxy.binds.length === 0) {
      findings.warn(
        proxy.at,
        `listen "${proxy.name}" has neither a bind nor a server Tether can use: left out`,
      );
      continue;
    }
    const name = backendNames.map(proxy.name, proxy);
    if (name === undefined) continue;
    backendOf.set(proxy.name, name);
    const imported = backend(proxy, name, findings, disabled);
    backends.push(imported);
    backendProxies.push([imported, proxy]);
  }

  const frontendNames = new NameMap('frontend', findings);
  const frontends: Frontend[] = [];
  const frontendProxies: Array<[Frontend, ProxyState]> = [];
  for (const proxy of tcp.filter(isFrontendSide)) {
    const bind = proxy.binds[0];
    if (!bind) {
      if (proxy.kind === 'frontend')
        findings.warn(proxy.at, `frontend "${proxy.name}" has no bind Tether can use: left out`);
      else findings.warn(proxy.at, `listen "${proxy.name}" has no bind: imported as a backend only`);
      continue;
    }
    const target = proxy.kind === 'listen' ? proxy.name : proxy.backend?.value;
    const backendName = target === undefined ? undefined : backendOf.get(target);
    if (backendName === undefined) {
      const why =
        target === undefined
          ? 'it has no `default_backend` (or unconditional `use_backend`)'
          : leftOut.has(target)
            ? `its backend "${target}" is left out`
            : `its backend "${target}" is not defined`;
      findings.warn(proxy.backend?.at ?? proxy.at, `frontend "${proxy.name}" is left out: ${why}`);
      continue;
    }
    const name = frontendNames.map(proxy.name, proxy);
    if (name === undefined) continue;
    const usable: { address: string; port: number; at: Statement }[] = [];
    for (const draft of proxy.binds) {
      const address = canonicalIp(draft.address);
      if (address !== undefined) usable.push({ address, port: draft.port, at: draft.at });
      else
        findings.warn(
          draft.at,
          `bind "${draft.address}" of frontend "${proxy.name}" is left out: it is not an IP address (Tether binds to addresses, not names)`,
        );
    }
    const binds = withoutCoveredBinds(usable, proxy.name, findings);
    if (binds.length === 0) {
      findings.warn(bind.at, `frontend "${proxy.name}" is left out: none of its binds is an IP address`);
      continue;
    }
    const frontend: Frontend = {
      name,
      bind: binds[0],
      binds,
      backend: backendName,
      enabled: !proxy.disabled,
    };
    if (proxy.maxconn && !applianceWide(proxy, global)) frontend.maxconn = proxy.maxconn.value;
    if (proxy.allow) frontend.allow = proxy.allow.value;
    frontends.push(frontend);
    frontendProxies.push([frontend, proxy]);
  }

  if (frontends.length === 0 && backends.length === 0) {
    findings.refuse(undefined, 'the file holds no TCP frontend, backend or listen section Tether can import');
  }
  const defaults = defaultsOf(tcp, global, findings);
  defaults.timeouts = {
    ...defaults.timeouts,
    ...sectionTimeouts(frontendProxies, backendProxies, findings),
  };
  return { defaults, frontends, backends };
}

/**
 * A `maxconn` a frontend inherits from `defaults` at the appliance's own number (the `global` one, or Tether's
 * default) never bites before the appliance's does: the frontend keeps no limit of its own. Tether's export writes
 * `defaults maxconn` so, and importing it back must not give every frontend a limit it did not have.
 */
function applianceWide(proxy: ProxyState, global: GlobalSettings): boolean {
  const inherited = proxy.maxconn !== undefined && proxy.maxconn.at.line < proxy.at.line;
  return inherited && proxy.maxconn?.value === (global.maxconn ?? DEFAULT_DEFAULTS.maxconn);
}

/** Whether a listener on `wide` already receives what one on `narrow` would (Linux, dual-stack `::`). */
function covers(wide: { address: string; port: number }, narrow: { address: string; port: number }): boolean {
  if (wide.port !== narrow.port) return false;
  if (wide.address === narrow.address || wide.address === '::') return true;
  return wide.address === '0.0.0.0' && isIP(narrow.address) === 4;
}

/**
 * HAProxy accepts binds of one frontend that overlap (`bind 0.0.0.0:80` and `bind 127.0.0.1:80`, or one
 * address twice): it binds them all with SO_REUSEPORT and the widest gets the connections. Tether refuses
 * overlapping binds, so the import keeps the widest (the first of equals) and says which one covers the rest.
 * At most 64 binds per frontend reach Tether (docs/config-limits.md), so the pairwise look is small.
 */
function withoutCoveredBinds(
  binds: { address: string; port: number; at: Statement }[],
  frontend: string,
  findings: Findings,
): Frontend['binds'] {
  const kept: Frontend['binds'] = [];
  binds.forEach((bind, i) => {
    const wider = binds.find((other, j) => j !== i && covers(other, bind) && (j < i || !covers(bind, other)));
    if (wider === undefined) kept.push({ address: bind.address, port: bind.port });
    else
      findings.warn(
        bind.at,
        `bind ${formatBind(bind)} of frontend "${frontend}" is left out: ${formatBind(wider)} (line ${wider.at.line}) already listens there, and Tether refuses overlapping binds`,
      );
  });
  return kept;
}

function formatBind(bind: { address: string; port: number }): string {
  return isIP(bind.address) === 6 ? `[${bind.address}]:${bind.port}` : `${bind.address}:${bind.port}`;
}

/** Unique Tether names for one kind of item; HAProxy names the schema refuses are mapped and warned about. */
class NameMap {
  private readonly used = new Set<string>();
  /** The next suffix to try per mapped name, so a thousand duplicates cost a thousand steps, not a million. */
  private readonly next = new Map<string, number>();

  constructor(
    private readonly what: string,
    private readonly findings: Findings,
  ) {}

  map(original: string, proxy: { at: ServerDraft['at'] }): string | undefined {
    const base = tetherName(original);
    let name = base;
    let n = this.next.get(base) ?? 2;
    while (this.used.has(name)) {
      const suffix = `_${n++}`;
      name = `${base.slice(0, 64 - suffix.length)}${suffix}`;
    }
    this.next.set(base, n);
    this.used.add(name);
    if (name !== original) {
      this.findings.strictly(
        proxy.at,
        `${this.what} name "${original}" is imported as "${name}" (names are 1 to 64 of letters, digits, "_", "." or "-", unique)`,
      );
    }
    return name;
  }
}

function backend(proxy: ProxyState, name: string, findings: Findings, disabled: DisabledServer[]): Backend {
  const servers: Server[] = [];
  const serverNames = new NameMap(`server of backend "${proxy.name}":`, findings);
  const checked = proxy.servers.filter((s) => s.params.check);
  const model = checked[0] ?? proxy.servers[0];
  // A backend without server lines takes its check settings from its `default-server` line (the export writes one).
  const params = model?.params ?? proxy.defaultServer;
  const { steps, connectPort } = stepsOf(proxy, (at, message) => findings.warn(at, message));
  const check: BackendCheck = {
    type: 'tcp' as const,
    inter: params.inter ?? HAPROXY_CHECK.inter,
    fall: params.fall ?? HAPROXY_CHECK.fall,
    rise: params.rise ?? HAPROXY_CHECK.rise,
    ...(proxy.timeouts.check ? { timeout: proxy.timeouts.check.value } : {}),
    // Absent in HAProxy means inter, as in Tether.
    ...(params.fastinter !== undefined ? { fastinter: params.fastinter } : {}),
    ...(params.downinter !== undefined ? { downinter: params.downinter } : {}),
    ...(steps ? { steps } : {}),
  };
  for (const server of checked.slice(1)) {
    for (const key of ['inter', 'fall', 'rise', 'fastinter', 'downinter'] as const) {
      const value = server.params[key] ?? (key in HAPROXY_CHECK ? HAPROXY_CHECK[key as 'inter'] : undefined);
      if (value !== check[key]) {
        findings.warn(
          server.at,
          `\`${key} ${value ?? '(none)'}\` differs from server "${model.name}" (line ${model.at.line}): Tether checks every server of a backend alike, with ${key} ${check[key] ?? '(none: inter)'}`,
        );
      }
    }
  }
  const sendProxy = params.sendProxy ?? 'none';
  const onMarkedDown = params.onMarkedDown ?? 'keep';
  for (const server of proxy.servers) {
    if ((server.params.sendProxy ?? 'none') !== sendProxy) {
      findings.warn(
        server.at,
        `send-proxy differs from server "${model.name}" (line ${model.at.line}): Tether sets it per backend, "${sendProxy}" is used`,
      );
    }
    if ((server.params.onMarkedDown ?? 'keep') !== onMarkedDown) {
      findings.warn(
        server.at,
        `on-marked-down differs from server "${model.name}" (line ${model.at.line}): Tether sets it per backend, "${onMarkedDown}" is used`,
      );
    }
    if (!isHost(server.address)) {
      findings.warn(
        server.at,
        `server "${server.name}" is left out: "${server.address}" is not an IP address or a host name Tether can resolve`,
      );
      continue;
    }
    const serverName = serverNames.map(server.name, server);
    if (serverName === undefined) continue;
    const imported: Server = {
      name: serverName,
      address: server.address,
      port: server.port,
      weight: server.params.weight ?? 1,
      backup: server.params.backup ?? false,
      check: server.params.check ?? false,
    };
    if (server.params.maxconn !== undefined) imported.maxconn = server.params.maxconn;
    // `tcp-check connect port N` wins over a server's `port` (HAProxy: the rule's port is used when it has one).
    const checkPort = connectPort ?? server.params.checkPort;
    if (checkPort !== undefined) imported.checkPort = checkPort;
    if (server.params.disabled) disabled.push({ backend: name, server: serverName, line: server.at.line });
    servers.push(imported);
  }
  return {
    name,
    balance: proxy.balance?.value ?? 'roundrobin',
    hashType: proxy.hashType?.value ?? 'map-based',
    check,
    sendProxy,
    onMarkedDown,
    ...retriesOf(proxy, findings),
    servers,
  };
}

function defaultsOf(proxies: ProxyState[], global: GlobalSettings, findings: Findings): Snapshot['defaults'] {
  // connect, client, server and tunnel: per section (section-timeouts.ts); check: the first backend's.
  const timeouts = { ...DEFAULT_DEFAULTS.timeouts };
  const first = proxies.filter((p) => p.kind !== 'frontend').find((p) => p.timeouts.check)?.timeouts.check;
  if (first) timeouts.check = first.value;
  const defaults: Snapshot['defaults'] = { maxconn: global.maxconn ?? DEFAULT_DEFAULTS.maxconn, timeouts };
  if (global.log) {
    defaults.log = global.log.value;
    // HAProxy logs only the proxies with `log global`; Tether logs every session to the one target.
    for (const p of proxies)
      if (isFrontendSide(p) && !p.logGlobal)
        findings.warn(
          p.at,
          `${p.kind} "${p.name}" has no \`log global\`: HAProxy would not log its sessions, Tether sends them to the global \`log\` target (line ${global.log.at.line}) too`,
        );
  }
  return defaults;
}
