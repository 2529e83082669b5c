// Cross-reference and range checks on a whole candidate snapshot. The DTOs check request shapes;
// these check what only the whole document can tell (unknown backend, duplicates, bind clashes)
// and re-check ranges so that snapshots from any source (PUT /config, rollback, import) are held to
// the same rules.
import { isIP } from 'node:net';
import type { Backend, Frontend, Server, Snapshot } from './snapshot.js';

export type IssueKind = 'invalid' | 'unknown-reference' | 'conflict';

export interface SnapshotIssue {
  kind: IssueKind;
  /** Path in the snapshot, e.g. `frontends[2].bind.port`. */
  field: string;
  /** Starts with the field's path. */
  message: string;
}

export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const HOSTNAME_PATTERN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function checkSnapshot(snapshot: Snapshot): SnapshotIssue[] {
  const issues: SnapshotIssue[] = [];
  const report = (kind: IssueKind, field: string, text: string) =>
    issues.push({ kind, field, message: `${field} ${text}` });

  checkInteger(report, 'defaults.maxconn', snapshot.defaults.maxconn, 1, 1_000_000);
  for (const [key, value] of Object.entries(snapshot.defaults.timeouts)) {
    checkInteger(report, `defaults.timeouts.${key}`, value, 1, 2_147_483_647);
  }

  const backendNames = new Set(snapshot.backends.map((b) => b.name));
  checkUniqueNames(report, 'frontends', snapshot.frontends, 'frontend');
  snapshot.frontends.forEach((frontend, i) =>
    checkFrontend(report, `frontends[${i}]`, frontend, backendNames),
  );
  checkBindClashes(report, snapshot.frontends);

  checkUniqueNames(report, 'backends', snapshot.backends, 'backend');
  snapshot.backends.forEach((backend, i) => checkBackend(report, `backends[${i}]`, backend));
  return issues;
}

type Report = (kind: IssueKind, field: string, text: string) => void;

function checkFrontend(report: Report, at: string, frontend: Frontend, backends: Set<string>): void {
  checkName(report, `${at}.name`, frontend.name);
  if (!isBindAddress(frontend.bind.address)) {
    report(
      'invalid',
      `${at}.bind.address`,
      `must be an IP address, 0.0.0.0 or ::, got "${frontend.bind.address}"`,
    );
  }
  checkInteger(report, `${at}.bind.port`, frontend.bind.port, 1, 65535);
  if (!backends.has(frontend.backend)) {
    report(
      'unknown-reference',
      `${at}.backend`,
      `must name an existing backend: "${frontend.backend}" is unknown`,
    );
  }
  if (frontend.maxconn !== undefined) checkInteger(report, `${at}.maxconn`, frontend.maxconn, 1, 1_000_000);
  frontend.allow?.forEach((entry, j) => {
    if (!isCidr(entry))
      report('invalid', `${at}.allow[${j}]`, `must be an IP address or CIDR block, got "${entry}"`);
  });
  if (frontend.inspect !== undefined && !['none', 'cmpp'].includes(frontend.inspect)) {
    report('invalid', `${at}.inspect`, 'must be one of: none, cmpp');
  }
}

function checkBackend(report: Report, at: string, backend: Backend): void {
  checkName(report, `${at}.name`, backend.name);
  oneOf(report, `${at}.balance`, backend.balance, [
    'source',
    'roundrobin',
    'leastconn',
    'first',
    'cmpp-account',
  ]);
  oneOf(report, `${at}.hashType`, backend.hashType, ['consistent', 'map-based']);
  oneOf(report, `${at}.sendProxy`, backend.sendProxy, ['none', 'v1', 'v2']);
  oneOf(report, `${at}.onMarkedDown`, backend.onMarkedDown, ['keep', 'shutdown-sessions']);
  const check = backend.check;
  oneOf(report, `${at}.check.type`, check.type, ['tcp', 'cmpp', 'none']);
  checkInteger(report, `${at}.check.inter`, check.inter, 10, 86_400_000);
  checkInteger(report, `${at}.check.fall`, check.fall, 1, 1000);
  checkInteger(report, `${at}.check.rise`, check.rise, 1, 1000);
  if (check.timeout !== undefined) checkInteger(report, `${at}.check.timeout`, check.timeout, 1, 86_400_000);
  if (check.type === 'cmpp' && !check.cmpp) {
    report(
      'invalid',
      `${at}.check.cmpp`,
      'is required when check.type is cmpp (sourceAddr, secret, version)',
    );
  }
  checkUniqueNames(report, `${at}.servers`, backend.servers, `server of backend "${backend.name}"`);
  backend.servers.forEach((server, j) => checkServer(report, `${at}.servers[${j}]`, server));
}

function checkServer(report: Report, at: string, server: Server): void {
  checkName(report, `${at}.name`, server.name);
  if (!isIP(server.address) && !HOSTNAME_PATTERN.test(server.address)) {
    report('invalid', `${at}.address`, `must be an IP address or host name, got "${server.address}"`);
  }
  checkInteger(report, `${at}.port`, server.port, 1, 65535);
  checkInteger(report, `${at}.weight`, server.weight, 0, 256);
  if (server.maxconn !== undefined) checkInteger(report, `${at}.maxconn`, server.maxconn, 1, 1_000_000);
}

function checkUniqueNames(report: Report, at: string, items: Array<{ name: string }>, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first === undefined) {
      seen.set(item.name, i);
      return;
    }
    // Both ends of a clash are reported, so a request editing either one sees its own field named.
    for (const index of [i, first]) {
      report('conflict', `${at}[${index}].name`, `must be unique: another ${what} is named "${item.name}"`);
    }
  });
}

function checkBindClashes(report: Report, frontends: Frontend[]): void {
  frontends.forEach((a, i) => {
    frontends.forEach((b, j) => {
      if (i !== j && bindsOverlap(a.bind, b.bind)) {
        report(
          'conflict',
          `frontends[${i}].bind`,
          `must be unique: ${formatBind(a.bind)} overlaps ${formatBind(b.bind)} of frontend "${b.name}"`,
        );
      }
    });
  });
}

/** Same port and the same address, or a wildcard that covers the other (`::` is dual-stack on Linux). */
export function bindsOverlap(a: Frontend['bind'], b: Frontend['bind']): boolean {
  if (a.port !== b.port) return false;
  if (a.address === b.address || a.address === '::' || b.address === '::') return true;
  return (
    (a.address === '0.0.0.0' && isIP(b.address) === 4) || (b.address === '0.0.0.0' && isIP(a.address) === 4)
  );
}

function formatBind(bind: Frontend['bind']): string {
  return isIP(bind.address) === 6 ? `[${bind.address}]:${bind.port}` : `${bind.address}:${bind.port}`;
}

function checkName(report: Report, field: string, name: unknown): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    report('invalid', field, 'must be 1 to 64 characters of letters, digits, "_", "." or "-"');
  }
}

function checkInteger(report: Report, field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    report(
      'invalid',
      field,
      `must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? 'nothing'}`,
    );
  }
}

function oneOf(report: Report, field: string, value: unknown, allowed: string[]): void {
  if (!allowed.includes(value as string)) report('invalid', field, `must be one of: ${allowed.join(', ')}`);
}

export function isBindAddress(address: string): boolean {
  return isIP(address) !== 0;
}

/** An IP address or an address/prefix block, IPv4 or IPv6. */
export function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
