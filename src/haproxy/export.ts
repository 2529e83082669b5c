// A snapshot as a haproxy.cfg that Debian's HAProxy 2.6 accepts (`haproxy -c -f`) and that configures the
// same listeners, servers, balancing, checks and timeouts. Plain and deterministic (the caller gives the
// times), so the REST route, a CLI or a test can all use it. What maps to what, and what has no HAProxy
// equivalent: docs/haproxy-export.md.
import { isIP } from 'node:net';
import { canonicalIp, parseCidr } from '../schema/addresses.js';
import {
  DEFAULT_REDISPATCH,
  DEFAULT_RETRIES,
  type Backend,
  type BalanceAlgorithm,
  type CheckStep,
  type Frontend,
  type Server,
  type Snapshot,
} from '../schema/snapshot.js';

export interface ExportSource {
  /** The revision the snapshot is (0: nothing applied yet). */
  revision: number;
  /** When that revision was stored; absent for revision 0. */
  createdAt?: Date;
  /** When the file is made. */
  exportedAt: Date;
  /** `backend/server` of the servers in maint now, written `disabled` (only the head has admin states). */
  maint?: ReadonlySet<string>;
}

/** Characters HAProxy allows in proxy and server names (its `invalid_char`). */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;
/** The acl of an allow-list; acl names are per proxy, so one name serves every frontend. */
const ALLOW_ACL = 'tether_allow';
/** The resolvers section that follows server host names (docs/host-names.md: re-resolved every 30 s). */
const RESOLVERS = 'tether_dns';
/** Debian's haproxy.cfg puts its stats socket here (the package makes the directory). */
const STATS_SOCKET = '/run/haproxy/admin.sock';
/** HAProxy keeps at most 64 words on a line; an allow-list is split over several `acl` lines (ORed). */
const ACL_ENTRIES_PER_LINE = 32;

const BALANCE: Record<BalanceAlgorithm, string> = {
  source: 'source',
  roundrobin: 'roundrobin',
  leastconn: 'leastconn',
  first: 'first',
  // Handled below with its comment: HAProxy cannot read the CMPP account.
  'cmpp-account': 'source',
};

export function exportHaproxy(snapshot: Snapshot, source: ExportSource): string {
  const out: string[] = [...header(source), ''];
  const { maxconn, timeouts, log } = snapshot.defaults;
  out.push('global', `    maxconn ${maxconn}`);
  if (log) out.push(`    log ${logAddress(log.address, log.port)} ${log.facility}`);
  if (!snapshot.frontends.some((f) => f.enabled)) out.push(...lonelySocket());
  out.push('');
  out.push(
    'defaults',
    '    mode tcp',
    // Tether's maxconn caps all frontends together (global above); HAProxy's defaults maxconn caps each
    // frontend without its own, and at the same number it never bites before the global one does.
    `    maxconn ${maxconn}`,
    `    timeout connect ${timeouts.connect}ms`,
    `    timeout client ${timeouts.client}ms`,
    `    timeout server ${timeouts.server}ms`,
    ...checkTimeoutLines(snapshot),
    ...(timeouts.tunnel !== undefined ? [`    timeout tunnel ${timeouts.tunnel}ms`] : []),
    // A backend without its own retries: Tether retries a failed connect once, on another server when there is one.
    `    retries ${DEFAULT_RETRIES}`,
    '    option redispatch',
    // Every session is logged as tcplog lines to the global target, as Tether does.
    ...(log ? ['    log global', '    option tcplog'] : []),
    '',
  );
  if (snapshot.backends.some((b) => b.servers.some((s) => isHostName(s.address)))) {
    out.push(...resolvers(), '');
  }
  for (const frontend of snapshot.frontends) out.push(...frontendSection(frontend), '');
  const shared = sharedCheckTimeout(snapshot.backends);
  for (const backend of snapshot.backends) out.push(...backendSection(backend, shared, source.maint), '');
  return out.join('\n');
}

/** HAProxy reads the port after the last colon: an IPv6 target goes in brackets. */
function logAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function header(source: ExportSource): string[] {
  const made = source.createdAt ? ` (stored ${source.createdAt.toISOString()})` : '';
  return [
    `# haproxy.cfg exported by Tether from revision ${source.revision}${made}`,
    `# at ${source.exportedAt.toISOString()}. Checked against HAProxy 2.6 (haproxy -c -f).`,
    '# What maps to what and what has no HAProxy equivalent: docs/haproxy-export.md in Tether.',
    '# Server admin states (ready/drain/maint) are runtime state, not config: they are not exported.',
  ];
}

/**
 * HAProxy refuses to start without a listener (`haproxy -c` exits 2), where Tether runs with no frontend
 * enabled; the stats socket is a listener, at Debian's default path.
 */
function lonelySocket(): string[] {
  return [
    '    # No frontend is enabled and HAProxy starts only with a listener: this stats socket is the one.',
    `    stats socket ${STATS_SOCKET} mode 660 level admin`,
  ];
}

function resolvers(): string[] {
  return [
    '# Server host names are resolved with the system resolver and re-resolved every 30 s, as in Tether.',
    `resolvers ${RESOLVERS}`,
    '    parse-resolv-conf',
    '    timeout resolve 30s',
    '    hold valid 30s',
  ];
}

function frontendSection(frontend: Frontend): string[] {
  const lines = [...renamed('frontend', frontend.name), `frontend ${haproxyName(frontend.name)}`];
  for (const bind of frontend.binds) lines.push(`    bind ${bindAddress(bind.address, bind.port)}`);
  if (!frontend.enabled) lines.push('    disabled');
  if (frontend.maxconn !== undefined) lines.push(`    maxconn ${frontend.maxconn}`);
  if (frontend.timeouts?.client !== undefined) lines.push(`    timeout client ${frontend.timeouts.client}ms`);
  if (frontend.allow && frontend.allow.length > 0) {
    const blocks = frontend.allow.map(cidr);
    for (let i = 0; i < blocks.length; i += ACL_ENTRIES_PER_LINE) {
      lines.push(`    acl ${ALLOW_ACL} src ${blocks.slice(i, i + ACL_ENTRIES_PER_LINE).join(' ')}`);
    }
    lines.push(`    tcp-request connection reject if !${ALLOW_ACL}`);
  }
  if (frontend.inspect === 'cmpp') {
    lines.push('    # inspect cmpp (reading CMPP frames) has no HAProxy equivalent: left out.');
  }
  lines.push(`    default_backend ${haproxyName(frontend.backend)}`);
  return lines;
}

function backendSection(
  backend: Backend,
  sharedTimeout: number | undefined,
  maint?: ReadonlySet<string>,
): string[] {
  const lines = [...renamed('backend', backend.name), `backend ${haproxyName(backend.name)}`];
  if (backend.balance === 'cmpp-account') {
    lines.push(
      '    # balance cmpp-account (hash of the CMPP account) has no HAProxy equivalent; the nearest is',
      "    # balance source, Tether's own fallback when a client sends no CMPP_CONNECT.",
    );
  }
  if (backend.onMarkedDown === 'terminate') {
    lines.push(
      '    # on-marked-down terminate (sessions closed the CMPP way, TERMINATE first) has no HAProxy equivalent:',
      '    # exported as on-marked-down shutdown-sessions, which cuts them.',
    );
  }
  if (backend.cmpp?.closeTimeout !== undefined) {
    lines.push(
      `    # cmpp closeTimeout ${backend.cmpp.closeTimeout}ms (lossless CMPP close) has no HAProxy equivalent: left out.`,
    );
  }
  lines.push(`    balance ${BALANCE[backend.balance]}`, `    hash-type ${backend.hashType}`);
  lines.push(...retryLines(backend));
  if (backend.cmpp !== undefined) {
    lines.push(
      '    # cmpp limits (per-account connection caps and login rates, answered with a CMPP CONNECT_RESP) have no',
      '    # HAProxy equivalent: left out; HAProxy passes every login to the servers.',
    );
  }
  const check = backend.check;
  if (check.type === 'cmpp') {
    // Never the account or its secret: there is nothing in HAProxy to give them to.
    lines.push(
      `    # check cmpp (a CMPP${check.cmpp ? ` ${check.cmpp.version}` : ''} login) has no HAProxy equivalent: exported as a`,
      '    # TCP connect check; its account and secret are not exported.',
    );
  }
  if (check.type !== 'none') {
    lines.push('    option tcp-check');
    if (check.timeout !== undefined && sharedTimeout === undefined)
      lines.push(`    timeout check ${check.timeout}ms`);
    if (check.type === 'tcp' && check.steps && check.steps.length > 0)
      lines.push(...tcpCheckLines(check.steps));
  }
  lines.push(...defaultServerLine(backend));
  for (const server of backend.servers)
    lines.push(...serverLines(backend, server, maint?.has(`${backend.name}/${server.name}`) === true));
  return lines;
}

/** A backend's own retries, redispatch and timeouts (the defaults section holds the rest). */
function retryLines(backend: Backend): string[] {
  const lines: string[] = [];
  if (backend.retries !== undefined) lines.push(`    retries ${backend.retries}`);
  const redispatch = backend.redispatch ?? DEFAULT_REDISPATCH;
  if (backend.redispatch !== undefined)
    lines.push(redispatch ? '    option redispatch' : '    no option redispatch');
  const own = backend.timeouts;
  if (own?.connect !== undefined) lines.push(`    timeout connect ${own.connect}ms`);
  if (own?.server !== undefined) lines.push(`    timeout server ${own.server}ms`);
  if (own?.tunnel !== undefined) lines.push(`    timeout tunnel ${own.tunnel}ms`);
  return lines;
}

/** The check.timeout every backend has (then written once, in `defaults`), or undefined. */
function sharedCheckTimeout(backends: Backend[]): number | undefined {
  const first = backends[0]?.check.timeout;
  return first !== undefined && backends.every((b) => b.check.timeout === first) ? first : undefined;
}

/**
 * `timeout check` in `defaults` only when every backend has that one: a backend inherits it, and one without its
 * own check.timeout must import back without one (it uses defaults.timeouts.check, which the import reads from the
 * first backend that has one).
 */
function checkTimeoutLines(snapshot: Snapshot): string[] {
  const shared = sharedCheckTimeout(snapshot.backends);
  if (shared !== undefined) return [`    timeout check ${shared}ms`];
  return [
    `    # Tether's check timeout for backends without their own: ${snapshot.defaults.timeouts.check}ms (HAProxy times their checks by inter).`,
  ];
}

/**
 * The check settings and per-backend server options no server line carries (no server, or none checked), as a
 * `default-server` line: the import reads them there, so the backend imports back as it is.
 */
function defaultServerLine(backend: Backend): string[] {
  const words: string[] = [];
  if (backend.check.type !== 'none' && !backend.servers.some((s) => s.check)) {
    const { inter, fall, rise, fastinter, downinter } = backend.check;
    words.push(`inter ${inter}ms fall ${fall} rise ${rise}`);
    if (fastinter !== undefined) words.push(`fastinter ${fastinter}ms`);
    if (downinter !== undefined) words.push(`downinter ${downinter}ms`);
  }
  if (backend.servers.length === 0) {
    if (backend.sendProxy === 'v1') words.push('send-proxy');
    if (backend.sendProxy === 'v2') words.push('send-proxy-v2');
    if (backend.onMarkedDown !== 'keep') words.push('on-marked-down shutdown-sessions');
  }
  return words.length > 0 ? [`    default-server ${words.join(' ')}`] : [];
}

function serverLines(backend: Backend, server: Server, inMaint: boolean): string[] {
  const words = [`server ${haproxyName(server.name)} ${serverAddress(server.address, server.port)}`];
  const notes: string[] = [];
  if (hasZone(server.address)) {
    notes.push(
      `    # HAProxy 2.6 reads no IPv6 zone (${server.address}): this server starts without an address.`,
    );
    words.push('init-addr none');
  } else if (isHostName(server.address)) {
    // Starts even when the name does not resolve (the server is then down), as Tether boots.
    words.push(`resolvers ${RESOLVERS} resolve-prefer ipv4 init-addr last,libc,none`);
  }
  words.push(`weight ${server.weight}`);
  if (server.maxconn !== undefined) words.push(`maxconn ${server.maxconn}`);
  if (server.backup) words.push('backup');
  if (server.check && backend.check.type !== 'none') {
    const { inter, fall, rise, fastinter, downinter } = backend.check;
    words.push(`check inter ${inter}ms fall ${fall} rise ${rise}`);
    if (fastinter !== undefined) words.push(`fastinter ${fastinter}ms`);
    if (downinter !== undefined) words.push(`downinter ${downinter}ms`);
  }
  if (server.checkPort !== undefined) words.push(`port ${server.checkPort}`);
  if (backend.sendProxy === 'v1') words.push('send-proxy');
  if (backend.sendProxy === 'v2') words.push('send-proxy-v2');
  // terminate (the lossless CMPP close) has no HAProxy equivalent: the nearest is cutting the sessions (see the note).
  if (backend.onMarkedDown !== 'keep') words.push('on-marked-down shutdown-sessions');
  // An admin state, not config: HAProxy starts the server in maintenance, as Tether holds it now.
  if (inMaint) words.push('disabled');
  return [...renamed('server', server.name, '    '), ...notes, `    ${words.join(' ')}`];
}

/**
 * A tcp-check sequence as HAProxy's rules. The connect is written out: HAProxy numbers the steps from it (the
 * send after it is step 2), as Tether's messages do (docs/health-checks.md).
 */
function tcpCheckLines(steps: readonly CheckStep[]): string[] {
  const lines = ['    tcp-check connect'];
  for (const step of steps) {
    if ('send' in step) lines.push(`    tcp-check send ${haproxyWord(step.send)}`);
    else if ('sendBinary' in step) lines.push(`    tcp-check send-binary ${step.sendBinary}`);
    else if ('string' in step.expect)
      lines.push(`    tcp-check expect string ${haproxyWord(step.expect.string)}`);
    else lines.push(`    tcp-check expect binary ${step.expect.binary}`);
  }
  return lines;
}

/**
 * Text as one unquoted haproxy.cfg word that HAProxy's parser reads back as exactly that text: backslash, space,
 * `#` and quotes escaped, CR/LF/tab as \r \n \t, other control characters as \xHH.
 */
export function haproxyWord(text: string): string {
  let word = '';
  for (const [i, c] of [...text].entries()) {
    // A last space as `\x20`: a line ending in `\ ` would read as a continuation once trailing blanks are trimmed.
    if (c === ' ' && i === text.length - 1) word += '\\x20';
    else if (c === '\\' || c === ' ' || c === '#' || c === '"' || c === "'") word += `\\${c}`;
    else if (c === '\r') word += '\\r';
    else if (c === '\n') word += '\\n';
    else if (c === '\t') word += '\\t';
    else if (c < ' ' || c === '\x7f') word += `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else word += c;
  }
  return word;
}

function bindAddress(address: string, port: number): string {
  const ip = canonicalIp(address) ?? address;
  if (isIP(ip) !== 6) return `${ip}:${port}`;
  // Node listens on `::` for IPv4 too; say so rather than depend on the host's bindv6only.
  return ip === '::' ? `[::]:${port} v4v6` : `[${ip}]:${port}`;
}

function serverAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** An IPv6 address with a zone (`fe80::1%eth0`): Node connects to it, HAProxy 2.6 cannot parse it. */
function hasZone(address: string): boolean {
  return isIP(address) === 6 && address.includes('%');
}

function isHostName(address: string): boolean {
  return isIP(address) === 0;
}

/** An allow-list entry as HAProxy writes it: IPv4-mapped blocks as the IPv4 block they are. */
function cidr(entry: string): string {
  const parsed = parseCidr(entry);
  return parsed ? `${parsed.address}/${parsed.prefix}` : entry;
}

/**
 * A name HAProxy accepts. Tether's names (schema/fields.ts NAME_SYNTAX) are a subset of HAProxy's, so this
 * changes nothing in a config Tether accepted; it keeps the file valid should the two ever part.
 */
export function haproxyName(name: string): string {
  return HAPROXY_NAME.test(name) ? name : name.replace(/[^A-Za-z0-9_.:-]/g, '_') || '_';
}

function renamed(what: string, name: string, indent = ''): string[] {
  const valid = haproxyName(name);
  return valid === name ? [] : [`${indent}# ${what} ${JSON.stringify(name)} is named ${valid} here.`];
}
