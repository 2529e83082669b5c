// The directives of a `defaults`, `frontend`, `backend` or `listen` section: each one is either
// understood (its value recorded on the ProxyState) or warned about with its line. None is dropped
// silently. What becomes of the recorded values is decided in assemble.ts.
import { parseCidr } from '../schema/addresses.js';
import { LIMITS } from '../schema/fields.js';
import type { Statement } from './lines.js';
import {
  isBackendSide,
  isFrontendSide,
  type ProxyState,
  type ServerParams,
  type TimeoutName,
} from './proxy.js';
import { checkOption, TCP_CHECK_LIKE, tcpCheckRule } from './health-check.js';
import { parseInteger, parsePorts, parseTime, splitHostPort } from './values.js';
import { SERVER_RESOLUTION_WORDS, serverResolutionWord } from './resolution.js';

export interface Reporter {
  warn(at: Statement, message: string): void;
  /** Refused under `strict`, a warning otherwise. */
  strictly(at: Statement, message: string): void;
}

const LOGGING = 'logging is not imported (Tether logs sessions itself)';

const STATS = 'the stats page is not imported: use the console';
const NOT_HERE = (word: string, kind: string) => `\`${word}\` does nothing in a ${kind} section: ignored`;

export function applyDirective(proxy: ProxyState, at: Statement, report: Reporter): void {
  const [keyword, ...args] = at.words;
  const warn = (message: string) => report.warn(at, message);
  switch (keyword) {
    case 'mode':
      if (args[0] === undefined) return warn('`mode` needs a value: ignored');
      proxy.mode = { value: args[0], at };
      return;
    case 'bind':
      if (!isFrontendSide(proxy)) return warn(NOT_HERE(keyword, proxy.kind));
      return bind(proxy, at, args, report);
    case 'default_backend':
      if (!isFrontendSide(proxy) && proxy.kind !== 'defaults') return warn(NOT_HERE(keyword, proxy.kind));
      if (args.length !== 1) return warn('`default_backend` takes one backend name: ignored');
      if (proxy.kind === 'defaults') return warn('a default backend in `defaults` is not imported');
      // An unconditional use_backend seen before wins (HAProxy evaluates use_backend first).
      if (!proxy.backend || proxy.backend.at.words[0] === 'default_backend') {
        proxy.backend = { value: args[0], at };
      }
      return;
    case 'use_backend':
      if (!isFrontendSide(proxy)) return warn(NOT_HERE(keyword, proxy.kind));
      if (args.length === 1) {
        if (proxy.backend?.at.words[0] === 'use_backend')
          return warn('a second unconditional `use_backend` is never reached: ignored');
        proxy.backend = { value: args[0], at };
        return;
      }
      return warn(
        '`use_backend` with a condition is not imported (Tether does not route by ACL): only `default_backend` or an unconditional `use_backend` is used',
      );
    case 'balance':
      if (!isBackendSide(proxy)) return warn(NOT_HERE(keyword, proxy.kind));
      return balance(proxy, at, args, warn);
    case 'hash-type':
      if (!isBackendSide(proxy)) return warn(NOT_HERE(keyword, proxy.kind));
      if (args[0] !== 'consistent' && args[0] !== 'map-based')
        return warn('`hash-type` must be consistent or map-based: ignored');
      proxy.hashType = { value: args[0], at };
      if (args.length > 1)
        warn(`hash function "${args.slice(1).join(' ')}" is not imported: Tether uses its own hash`);
      return;
    case 'timeout':
      return timeout(proxy, at, args, warn);
    case 'contimeout':
    case 'clitimeout':
    case 'srvtimeout':
      return warn(
        `\`${keyword}\` is the old HAProxy 1.x spelling (gone since 2.1): write \`timeout ${({ contimeout: 'connect', clitimeout: 'client', srvtimeout: 'server' } as Record<string, string>)[keyword]}\`; ignored`,
      );
    case 'maxconn': {
      if (proxy.kind === 'backend')
        return warn('`maxconn` in a backend does nothing in HAProxy either: ignored');
      const n = parseInteger(args[0]);
      if (n === undefined || n < 1 || n > 1_000_000)
        return warn('`maxconn` must be a number from 1 to 1000000: ignored');
      proxy.maxconn = { value: n, at };
      return;
    }
    case 'server':
      if (proxy.kind === 'defaults' || !isBackendSide(proxy)) return warn(NOT_HERE(keyword, proxy.kind));
      return server(proxy, at, args, report);
    case 'default-server':
      if (!isBackendSide(proxy)) return warn(NOT_HERE(keyword, proxy.kind));
      proxy.defaultServer = { ...proxy.defaultServer, ...serverParams(args, 0, warn) };
      return;
    case 'no':
      if (args[0] === 'log' && args.length === 1) {
        proxy.logGlobal = false;
        return;
      }
      if (args[0] === 'option' && args[1] === 'redispatch')
        return redispatch(proxy, at, false, args.slice(2), warn);
      if (args[0] === 'option' && isCheckOption(args[1])) {
        proxy.checkOption = undefined; // `no option tcp-check` and the like: back to a plain connect check
        return;
      }
      return option(proxy, at, args.slice(1), warn);
    case 'option':
      if (args[0] === 'redispatch') return redispatch(proxy, at, true, args.slice(1), warn);
      return option(proxy, at, args, warn);
    case 'retries':
      return retries(proxy, at, args, warn);
    case 'tcp-check':
      return tcpCheckRule(proxy, at, args, warn);
    case 'acl':
      if (!isFrontendSide(proxy))
        return warn(
          `\`acl\` in a ${proxy.kind} section is not imported: only a frontend's \`src\` allow-list is`,
        );
      return acl(proxy, args, warn);
    case 'tcp-request':
      if (!isFrontendSide(proxy))
        return warn(
          `\`tcp-request\` in a ${proxy.kind} section is not imported: only a frontend's allow-list is`,
        );
      return tcpRequest(proxy, at, args, warn);
    case 'disabled':
      if (isFrontendSide(proxy)) {
        proxy.disabled = true;
        return;
      }
      return warn(
        '`disabled` on a backend is not imported: set its servers to maint after the import if you need it',
      );
    case 'enabled':
      proxy.disabled = false;
      return;
    case 'log':
      if (args[0] === 'global' && args.length === 1) {
        proxy.logGlobal = true;
        return;
      }
      return warn(
        "a section's own `log` target is not imported: Tether sends every session to one target, `defaults.log`, set from the `global` section's `log` line",
      );
    case 'log-format':
    case 'log-tag':
      return warn(LOGGING);
    case 'stats':
      return warn(STATS);
    case 'description':
      return warn('`description` is not imported (Tether has no description field)');
    default:
      return warn(`\`${keyword}\` is not understood by the import: ignored`);
  }
}

function bind(proxy: ProxyState, at: Statement, args: string[], report: Reporter): void {
  const [list, ...options] = args;
  if (list === undefined) return report.warn(at, '`bind` needs an address: ignored');
  for (const text of list.split(',')) {
    const parsed = splitHostPort(text);
    if ('unsupported' in parsed) {
      report.warn(at, `bind address "${text}" is not imported: ${parsed.unsupported}`);
      continue;
    }
    const ports = parsePorts(parsed.port);
    if (!ports) {
      report.warn(at, `bind address "${text}" is not imported: it needs a port (or range) from 1 to 65535`);
      continue;
    }
    const address = parsed.host === '*' || parsed.host === '' ? '0.0.0.0' : parsed.host;
    // A range is as many listeners as ports, up to the frontend's limit (docs/config-limits.md).
    const room = LIMITS.bindsPerFrontend - proxy.binds.length;
    for (let i = 0; i < Math.min(ports.count, room); i++) {
      proxy.binds.push({ address, port: ports.first + i, at });
    }
    if (ports.count > room) {
      report.strictly(
        at,
        `${proxy.kind} "${proxy.name}" listens on more than ${LIMITS.bindsPerFrontend} addresses: the rest from "${text}" is not imported`,
      );
    }
  }
  if (options.includes('ssl')) {
    report.warn(
      at,
      'bind option `ssl` is not imported: Tether does not terminate TLS, the bytes pass through as they come',
    );
  }
  // `v4v6` is what Tether does anyway: Node listens on `::` for IPv4 too (the export writes it so).
  const others = options.filter((o) => o !== 'ssl' && o !== 'v4v6');
  if (others.includes('v6only'))
    report.warn(at, '`v6only` is not imported: Tether listening on `::` takes IPv4 connections too');
  const rest = others.filter((o) => o !== 'v6only');
  if (rest.length > 0) report.warn(at, `bind options \`${rest.join(' ')}\` are not imported`);
}

function balance(proxy: ProxyState, at: Statement, args: string[], warn: (m: string) => void): void {
  const algorithm = args[0];
  switch (algorithm) {
    case 'source':
    case 'roundrobin':
    case 'leastconn':
    case 'first':
      proxy.balance = { value: algorithm, at };
      if (args.length > 1) warn(`balance arguments "${args.slice(1).join(' ')}" are not imported`);
      return;
    case 'static-rr':
      proxy.balance = { value: 'roundrobin', at };
      return warn('`static-rr` imported as `roundrobin` (Tether applies weight changes at once either way)');
    default:
      return warn(
        `\`balance ${algorithm ?? ''}\` is not built in Tether: HAProxy's default roundrobin is used`,
      );
  }
}

const TIMEOUTS: Record<string, TimeoutName> = {
  connect: 'connect',
  client: 'client',
  server: 'server',
  check: 'check',
  tunnel: 'tunnel',
};

// ---- retries and redispatch (docs/haproxy-import.md, "Retries") ----

function retries(proxy: ProxyState, at: Statement, args: string[], warn: (m: string) => void): void {
  if (!isBackendSide(proxy)) return warn(NOT_HERE('retries', proxy.kind));
  const n = parseInteger(args[0]);
  if (n === undefined || n < 0 || n > 100 || args.length !== 1)
    return warn('`retries` must be a number from 0 to 100: ignored');
  proxy.retries = { value: n, at };
}

/** `option redispatch [interval]`, `no option redispatch`. */
function redispatch(
  proxy: ProxyState,
  at: Statement,
  on: boolean,
  rest: string[],
  warn: (m: string) => void,
): void {
  if (!isBackendSide(proxy)) return warn(NOT_HERE('option redispatch', proxy.kind));
  proxy.redispatch = { value: on, at };
  if (on && rest.length > 0 && rest[0] !== '-1') {
    warn(
      `\`option redispatch ${rest.join(' ')}\` is imported as \`option redispatch\`: Tether redispatches as HAProxy's default (-1) does, on the last retry (at once on a balance that is not a hash)`,
    );
  }
}

function timeout(proxy: ProxyState, at: Statement, args: string[], warn: (m: string) => void): void {
  const [which, value] = args;
  const name = TIMEOUTS[which ?? ''];
  if (!name) {
    if (which === 'queue')
      return warn(
        '`timeout queue` is not imported: Tether has no server queue: a server at its maxconn is passed over for another one, and with none left the connection is closed at once',
      );
    return warn(`\`timeout ${which ?? ''}\` is not imported (not a TCP-mode timeout Tether has)`);
  }
  if (proxy.kind === 'frontend' && name !== 'client') {
    return warn(`\`timeout ${name}\` does nothing in a frontend (HAProxy ignores it there too)`);
  }
  if (proxy.kind === 'backend' && name === 'client') {
    return warn('`timeout client` does nothing in a backend (HAProxy ignores it there too)');
  }
  if (name === 'tunnel' && value === '0') return warn('`timeout tunnel 0` is no tunnel timeout: ignored');
  if (value === 'none' || value === undefined) return warn(`\`timeout ${name}\` has no value: ignored`);
  const time = parseTime(value);
  if (!time)
    return warn(`\`timeout ${name} ${value}\` is not a time (a number with us, ms, s, m, h or d): ignored`);
  if (time.ms === 0)
    return warn(`\`timeout ${name} 0\` (no timeout) is not imported: Tether needs one, its default applies`);
  if (time.note) warn(`\`timeout ${name} ${value}\` ${time.note}`);
  proxy.timeouts[name] = { value: time.ms, at };
}

/** `server` and `default-server` parameters with a value that the import reads past without using. */
const IGNORED_WITH_VALUE = new Set([
  'cookie',
  'slowstart',
  'maxqueue',
  'minconn',
  'agent-port',
  'agent-inter',
  'agent-addr',
  'agent-send',
  'addr',
  'ca-file',
  'crt',
  'crl-file',
  'ciphers',
  'ciphersuites',
  'sni',
  'verifyhost',
  'verify',
  'alpn',
  'npn',
  'id',
  'observe',
  'error-limit',
  'source',
  'usesrc',
  'ssl-min-ver',
  'ssl-max-ver',
  'proto',
  'namespace',
  'pool-max-conn',
  'pool-purge-delay',
  'max-reuse',
  'redir',
  'track',
  'tcp-ut',
  'resolve-net',
  'resolve-opts',
  'ws',
  'check-sni',
  'check-alpn',
  'check-proto',
  'log-proto',
  'proxy-v2-options',
  'health-check-address',
  'shard',
  'pool-low-conn',
  'hash-key',
  'set-proxy-v2-tlv-fmt',
  'socks4',
  'tfo',
  'guid',
]);

const INT_PARAMS: Record<string, { key: 'fall' | 'rise' | 'weight' | 'maxconn'; min: number; max: number }> =
  {
    fall: { key: 'fall', min: 1, max: 1000 },
    rise: { key: 'rise', min: 1, max: 1000 },
    weight: { key: 'weight', min: 0, max: 256 },
    maxconn: { key: 'maxconn', min: 0, max: 1_000_000 },
  };

/** The parameters of a `server` (from `from`) or `default-server` line. */
export function serverParams(words: string[], from: number, warn: (m: string) => void): ServerParams {
  const params: ServerParams = {};
  for (let i = from; i < words.length; i++) {
    const word = words[i];
    const value = words[i + 1];
    switch (word) {
      case 'check':
        params.check = true;
        break;
      case 'no-check':
        params.check = false;
        break;
      case 'backup':
        params.backup = true;
        break;
      case 'no-backup':
        params.backup = false;
        break;
      case 'send-proxy':
        params.sendProxy = 'v1';
        break;
      case 'send-proxy-v2':
        params.sendProxy = 'v2';
        break;
      case 'no-send-proxy':
      case 'no-send-proxy-v2':
        params.sendProxy = 'none';
        break;
      case 'disabled':
        params.disabled = true;
        break;
      case 'enabled':
        params.disabled = false;
        break;
      case 'inter':
      case 'fastinter':
      case 'downinter': {
        i++;
        const time = value === undefined ? undefined : parseTime(value);
        if (!time || time.ms < 10 || time.ms > 86_400_000) {
          warn(`\`${word} ${value ?? ''}\` must be a time from 10 ms to 1 day: ignored`);
        } else params[word] = time.ms;
        break;
      }
      case 'fall':
      case 'rise':
      case 'weight':
      case 'maxconn': {
        i++;
        const rule = INT_PARAMS[word];
        const n = parseInteger(value);
        if (n === undefined || n < rule.min || n > rule.max) {
          warn(`\`${word} ${value ?? ''}\` must be a number from ${rule.min} to ${rule.max}: ignored`);
        } else if (word === 'maxconn' && n === 0) {
          // HAProxy's 0 is "no limit" (also over a default-server's), Tether's is to leave the field out.
          params.maxconn = undefined;
        } else params[rule.key] = n;
        break;
      }
      case 'port': {
        i++;
        const n = parseInteger(value);
        if (n === undefined || n < 1 || n > 65535) warn(`\`port ${value ?? ''}\` must be a port: ignored`);
        else params.checkPort = n;
        break;
      }
      case 'on-marked-down':
        i++;
        if (value === 'shutdown-sessions') params.onMarkedDown = 'shutdown-sessions';
        else warn(`\`on-marked-down ${value ?? ''}\` is not built in Tether: only shutdown-sessions is`);
        break;
      case 'on-marked-up':
        i++;
        warn(
          `\`on-marked-up ${value ?? ''}\` is not built in Tether: sessions on backup servers stay when a primary comes back`,
        );
        break;
      case 'ssl':
        warn(
          '`ssl` is not imported: Tether does not speak TLS to servers, the bytes pass through as they come',
        );
        break;
      case 'agent-check':
        warn('`agent-check` is not built in Tether: only the TCP check runs');
        break;
      default:
        if (SERVER_RESOLUTION_WORDS.has(word)) {
          i++;
          const unlike = serverResolutionWord(word, value);
          if (unlike) warn(unlike);
        } else if (IGNORED_WITH_VALUE.has(word)) {
          i++;
          warn(`server parameter \`${word} ${value ?? ''}\` is not imported`);
        } else warn(`server parameter \`${word}\` is not imported`);
    }
  }
  return params;
}

function server(proxy: ProxyState, at: Statement, args: string[], report: Reporter): void {
  const warn = (message: string) => report.warn(at, message);
  const [name, addressText] = args;
  if (name === undefined || addressText === undefined)
    return warn('`server` needs a name and an address: left out');
  const own = serverParams(args, 2, warn);
  const params: ServerParams = { ...proxy.defaultServer, ...own };
  const parsed = splitHostPort(addressText);
  if ('unsupported' in parsed) return warn(`server "${name}" is left out: ${parsed.unsupported}`);
  if (at.envRefs.length > 0 && addressText.includes('${')) {
    return warn(
      `server "${name}" is left out: its address uses an environment variable the import cannot expand`,
    );
  }
  const port = parseInteger(parsed.port);
  if (port === undefined || port < 1 || port > 65535) {
    return warn(
      `server "${name}" is left out: Tether needs a fixed port in its address (got "${addressText}")`,
    );
  }
  proxy.servers.push({ name, address: parsed.host, port, params, at });
}

const isCheckOption = (name: string | undefined): name is string =>
  name === 'tcp-check' || name === 'redis-check' || (name !== undefined && TCP_CHECK_LIKE.has(name));

function option(proxy: ProxyState, at: Statement, args: string[], warn: (m: string) => void): void {
  const [name] = args;
  if (isCheckOption(name)) return checkOption(proxy, at, name, warn);
  if (name === 'redispatch')
    return warn(
      '`option redispatch` has no setting in Tether: it always retries a failed connect once, on another server when there is one',
    );
  // Tether's session lines are always tcplog's.
  if (name === 'tcplog') return;
  if (name === 'dontlognull')
    return warn('`option dontlognull` is not imported: Tether logs every session, those without data too');
  if (name === 'httplog' || name === 'logasap' || name === 'log-health-checks') return warn(LOGGING);
  if (name === 'tcpka' || name === 'clitcpka' || name === 'srvtcpka')
    return warn(`\`option ${name}\` is not imported: Tether does not set TCP keep-alive on its sockets`);
  return warn(`\`option ${name ?? ''}\` is not understood by the import: ignored`);
}

function acl(proxy: ProxyState, args: string[], warn: (m: string) => void): void {
  const [name, criterion, ...values] = args;
  if (name === undefined || criterion !== 'src') {
    return warn(
      'only `acl NAME src <address>…` is imported (used by `tcp-request connection reject if !NAME`): ignored',
    );
  }
  const blocks: string[] = [];
  for (const value of values) {
    if (value.startsWith('-')) return warn(`acl flag \`${value}\` is not imported: acl "${name}" ignored`);
    if (!parseCidr(value)) return warn(`"${value}" is not an address or CIDR block: acl "${name}" ignored`);
    blocks.push(value);
  }
  if (blocks.length === 0) return warn(`acl "${name}" lists no address: ignored`);
  const known = proxy.acls.get(name);
  if (known) known.push(...blocks);
  else proxy.acls.set(name, blocks);
}

function tcpRequest(proxy: ProxyState, at: Statement, args: string[], warn: (m: string) => void): void {
  const [phase, action, cond, acl, ...rest] = args;
  const negated = cond === 'if' && acl?.startsWith('!') ? acl.slice(1) : cond === 'unless' ? acl : undefined;
  if (phase !== 'connection' || action !== 'reject' || negated === undefined || rest.length > 0) {
    return warn('only `tcp-request connection reject if !ACL` (an allow-list) is imported: ignored');
  }
  const blocks = proxy.acls.get(negated);
  if (!blocks) return warn(`acl "${negated}" is not an imported \`src\` acl of this section: ignored`);
  if (proxy.allow) return warn('a second allow-list rule is not imported: only the first one is');
  proxy.allow = { value: [...blocks], at };
}
