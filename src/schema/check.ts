// The whole-document check, shared by the control plane (config/snapshot-checks.ts: every issue, up
// to LIMITS.issues) and the runtime (runtime/snapshot-check.ts: the first issue). It takes anything
// (a snapshot read back from the database, a direct caller's object) and never throws on bad shapes.
// Every part is linear in the size of the document: bind clashes and duplicate names go through maps.
import { isIP } from 'node:net';
import { bindAddressProblem, canonicalIp, isHost, manyHostsProblem, parseCidr } from './addresses.js';
import {
  LIMITS,
  NAME_PATTERN,
  NAME_RULE_TEXT,
  NAME_SYNTAX,
  RULES,
  type EnumRule,
  type FieldRule,
} from './fields.js';
import { DURATION_RULE_TEXT, formatDuration } from './durations.js';
import { hasCmppLimits, type Backend, type BackendCmpp, type Frontend, type Snapshot } from './snapshot.js';

/** invalid → 400, too-large → 413, unknown-reference / not-built → 422, conflict → 409. */
export type IssueKind = 'invalid' | 'too-large' | 'unknown-reference' | 'not-built' | 'conflict';

export interface SnapshotIssue {
  kind: IssueKind;
  /** Path in the snapshot, e.g. `frontends[2].bind.port`. */
  field: string;
  /** Starts with the field's path. */
  message: string;
}

export interface CheckOptions {
  /** Stop after this many issues (default LIMITS.issues). */
  maxIssues?: number;
  /**
   * The snapshot in effect; giving it makes the check the control plane's: the documented limits,
   * and the policies on new input (see ruleProblem) and values not built yet (not-built) for every
   * value a change sets, compared with the same field of the same-named stored item. A value left
   * as stored is held to what the runtime can serve only, so a config stored under older rules keeps
   * taking unrelated changes. The runtime leaves it out: it serves what it is given, as far as it can.
   */
  stored?: Snapshot;
}

/**
 * Why `value` breaks `rule` (text after the field name), or undefined when it is fine. `strict` (the
 * control plane, for every change) adds the policies on new input: no `.`/`..` names, no broadcast or
 * multicast binds, CMPP fields counted in bytes. Without it (the runtime) only what the runtime
 * cannot serve is refused, so a config stored under older rules still boots.
 */
export function ruleProblem(rule: FieldRule, value: unknown, strict = true): string | undefined {
  switch (rule.kind) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max
        ? undefined
        : `must be an integer from ${rule.min} to ${rule.max}, got ${shown(value)}`;
    case 'duration':
      return typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max
        ? undefined
        : `${DURATION_RULE_TEXT}, from ${formatDuration(rule.min)} to ${formatDuration(rule.max)}, got ${typeof value === 'number' ? formatDuration(value) : shown(value)}`;
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value)
        ? undefined
        : `must be one of: ${rule.values.join(', ')}, got ${shown(value)}`;
    case 'bytes': {
      if (!strict) return typeof value === 'string' ? undefined : 'must be a string';
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value).length : -1;
      return bytes >= rule.min && bytes <= rule.max
        ? undefined
        : `must be a string of ${rule.min} to ${rule.max} bytes (UTF-8), got ${bytes < 0 ? shown(value) : `${bytes} bytes`}`;
    }
    case 'text':
      return typeof value === 'string' && value.length >= rule.min && value.length <= rule.max
        ? undefined
        : `must be a string of ${rule.min} to ${rule.max} characters`;
    case 'name':
      return typeof value === 'string' && (strict ? NAME_PATTERN : NAME_SYNTAX).test(value)
        ? undefined
        : NAME_RULE_TEXT;
    case 'bind-address':
      if (typeof value !== 'string') return 'must be an IP address, 0.0.0.0 or ::';
      if (!strict)
        return canonicalIp(value) ? undefined : withValue('must be an IP address, 0.0.0.0 or ::', value);
      return withValue(bindAddressProblem(value), value);
    case 'host':
      return typeof value === 'string' && isHost(value)
        ? undefined
        : `must be an IP address or host name, got ${shown(value)}`;
    case 'cidr':
      return typeof value === 'string' && parseCidr(value)
        ? undefined
        : `must be an IP address or CIDR block such as 10.0.0.0/8 (IPv4-mapped blocks need a prefix of 96 or more), got ${shown(value)}`;
    case 'hex': {
      const hex = typeof value === 'string' && /^(?:[0-9A-Fa-f]{2})*$/.test(value) ? value.length / 2 : -1;
      return hex >= rule.min && hex <= rule.max
        ? undefined
        : `must be hexadecimal digits, two per byte, of ${rule.min} to ${rule.max} bytes, got ${shown(value)}`;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'ip': {
      const ip = typeof value === 'string' ? canonicalIp(value) : undefined;
      if (ip === undefined || ip === '0.0.0.0' || ip === '::')
        return `must be an IP address (not a host name, 0.0.0.0 or ::), got ${shown(value)}`;
      return strict ? withValue(manyHostsProblem(ip), value as string) : undefined;
    }
  }
}

/** The not-built message of an enum value, or undefined when the value is built (or not in the enum). */
export function notBuiltProblem(rule: EnumRule, value: unknown): string | undefined {
  return typeof value === 'string' && rule.notBuilt.includes(value)
    ? `"${value}" is not built yet (it comes with CMPP support); use one of: ${rule.values.filter((v) => !rule.notBuilt.includes(v)).join(', ')}`
    : undefined;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function withValue(problem: string | undefined, value: string): string | undefined {
  return problem && `${problem}, got ${shown(value)}`;
}

/** Thrown by the collector once it holds maxIssues: the check stops right there. */
class Enough extends Error {}

class Issues {
  readonly list: SnapshotIssue[] = [];

  constructor(
    private readonly max: number,
    /** The control plane's check: its policies apply to every value a change sets (see ruleProblem). */
    private readonly controlPlane: boolean,
  ) {}

  /** Whether the policies on new input apply: the control plane's check, and a value that is not as stored. */
  strict(value: unknown, before: unknown): boolean {
    if (!this.controlPlane) return false;
    if (value === before) return false;
    return typeof value !== 'object' || JSON.stringify(value) !== JSON.stringify(before);
  }

  add(kind: IssueKind, field: string, text: string): void {
    this.list.push({ kind, field, message: `${field} ${text}` });
    if (this.list.length >= this.max) throw new Enough();
  }

  /** `before`: the stored value of this field of the same-named item (undefined when new). */
  rule(field: string, rule: FieldRule, value: unknown, before?: unknown): boolean {
    const problem = ruleProblem(rule, value, this.strict(value, before));
    if (problem) this.add('invalid', field, problem);
    return problem === undefined;
  }

  optional(field: string, rule: FieldRule, value: unknown): void {
    if (value !== undefined) this.rule(field, rule, value);
  }

  /** Under the control plane's policies, a value the schema knows but Tether does not build yet. */
  notBuilt(field: string, rule: EnumRule, value: unknown, before: unknown): void {
    const problem = this.strict(value, before) ? notBuiltProblem(rule, value) : undefined;
    if (problem) this.add('not-built', field, problem);
  }
}

type Loose = Record<string, unknown>;
const isObject = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function checkSnapshot(snapshot: unknown, options: CheckOptions = {}): SnapshotIssue[] {
  const issues = new Issues(options.maxIssues ?? LIMITS.issues, options.stored !== undefined);
  try {
    checkDocument(issues, snapshot, options.stored);
  } catch (error) {
    if (!(error instanceof Enough)) throw error;
  }
  return issues.list;
}

function checkDocument(issues: Issues, snapshot: unknown, stored: Snapshot | undefined): void {
  if (!isObject(snapshot)) return issues.add('invalid', 'snapshot', 'must be an object');
  const was = new StoredItems(stored);
  const { defaults, frontends, backends } = snapshot;
  if (!isObject(defaults)) issues.add('invalid', 'defaults', 'is required');
  else {
    issues.rule('defaults.maxconn', RULES.defaults.maxconn, defaults.maxconn);
    const timeouts = defaults.timeouts;
    if (!isObject(timeouts)) issues.add('invalid', 'defaults.timeouts', 'is required');
    else {
      for (const key of ['connect', 'client', 'server', 'check']) {
        issues.rule(`defaults.timeouts.${key}`, RULES.defaults.timeout, timeouts[key]);
      }
      issues.optional('defaults.timeouts.tunnel', RULES.defaults.timeout, timeouts.tunnel);
    }
    checkLogTarget(issues, defaults.log);
  }
  if (!Array.isArray(frontends)) return issues.add('invalid', 'frontends', 'must be an array');
  if (!Array.isArray(backends)) return issues.add('invalid', 'backends', 'must be an array');
  if (stored && !checkSizes(issues, snapshot)) return;

  const backendNames = new Set<unknown>(backends.map((b) => (isObject(b) ? b.name : undefined)));
  const frontendNames = new UniqueNames(issues, 'frontends', 'frontend');
  const binds = new BindClashes(issues);
  frontends.forEach((frontend, i) => {
    const at = `frontends[${i}]`;
    if (!isObject(frontend)) return issues.add('invalid', at, 'must be an object');
    frontendNames.add(i, frontend.name);
    checkFrontend(issues, at, frontend, backendNames, was.frontend(frontend.name));
    if (Array.isArray(frontend.binds) && frontend.binds.length <= LIMITS.bindsPerFrontend)
      binds.add(i, frontend);
  });

  const backendUnique = new UniqueNames(issues, 'backends', 'backend');
  backends.forEach((backend, i) => {
    const at = `backends[${i}]`;
    if (!isObject(backend)) return issues.add('invalid', at, 'must be an object');
    backendUnique.add(i, backend.name);
    checkBackend(issues, at, backend, was.backend(backend.name));
  });
  if (stored !== undefined) checkLimitsInspected(issues, frontends, backends);
}

/**
 * CMPP limits (`backend.cmpp`) are enforced by inspecting frontends only (they read the CONNECT): a backend with
 * limits reached by a frontend that doesn't inspect would let that frontend's logins through uncounted, a setting
 * that does less than it says. Refused at both ends (422 NOT_IMPLEMENTED), so either request hears of it.
 * The control plane's check only: the runtime serves what it is given.
 */
function checkLimitsInspected(issues: Issues, frontends: unknown[], backends: unknown[]): void {
  const limited = new Map<string, number>();
  backends.forEach((b, i) => {
    if (isObject(b) && typeof b.name === 'string' && isObject(b.cmpp) && hasCmppLimits(b.cmpp as BackendCmpp))
      limited.set(b.name, i);
  });
  if (limited.size === 0) return;
  const reported = new Set<number>();
  frontends.forEach((f, j) => {
    if (!isObject(f) || f.inspect === 'cmpp' || typeof f.backend !== 'string') return;
    const i = limited.get(f.backend);
    if (i === undefined) return;
    issues.add(
      'not-built',
      `frontends[${j}].inspect`,
      `must be "cmpp": backend "${f.backend}" has CMPP limits (cmpp), which only inspecting frontends enforce`,
    );
    if (reported.has(i)) return;
    reported.add(i);
    issues.add(
      'not-built',
      `backends[${i}].cmpp`,
      `has no effect on frontend "${String(f.name)}" (inspect: ${String(f.inspect ?? 'none')}): CMPP limits are enforced only on frontends with inspect: cmpp`,
    );
  });
}

/** `backend.cmpp` (docs/cmpp-session-control.md): caps, login rates and per-account overrides. */
function checkBackendCmpp(issues: Issues, at: string, cmpp: unknown, before: BackendCmpp | undefined): void {
  if (cmpp === undefined) return;
  const rules = RULES.cmppLimits;
  if (!isObject(cmpp)) return issues.add('invalid', `${at}.cmpp`, 'must be an object');
  issues.optional(
    `${at}.cmpp.maxConnectionsPerAccount`,
    rules.maxConnectionsPerAccount,
    cmpp.maxConnectionsPerAccount,
  );
  const rate = cmpp.loginRate;
  if (rate !== undefined) {
    if (!isObject(rate))
      issues.add('invalid', `${at}.cmpp.loginRate`, 'must be an object { perAccount?, perSource? }');
    else {
      checkLoginRate(issues, `${at}.cmpp.loginRate.perAccount`, rate.perAccount);
      checkLoginRate(issues, `${at}.cmpp.loginRate.perSource`, rate.perSource);
    }
  }
  const accounts = cmpp.accounts;
  if (accounts === undefined) return;
  if (!Array.isArray(accounts))
    return issues.add(
      'invalid',
      `${at}.cmpp.accounts`,
      'must be an array of { account, maxConnections?, loginRate? }',
    );
  if (accounts.length > LIMITS.cmppAccountOverrides)
    return issues.add(
      'too-large',
      `${at}.cmpp.accounts`,
      `must hold at most ${LIMITS.cmppAccountOverrides} accounts (docs/config-limits.md), got ${accounts.length}`,
    );
  const storedAccounts = new Set((before?.accounts ?? []).map((a) => a.account));
  const seen = new Map<string, number>();
  accounts.forEach((entry: unknown, k: number) => {
    const eat = `${at}.cmpp.accounts[${k}]`;
    if (!isObject(entry))
      return issues.add('invalid', eat, 'must be an object { account, maxConnections?, loginRate? }');
    const account = entry.account;
    const was = typeof account === 'string' && storedAccounts.has(account) ? account : undefined;
    if (issues.rule(`${eat}.account`, rules.account, account, was) && typeof account === 'string') {
      // Source_Addr is NUL padded: a login can't name an account ending with NUL, the override would never apply.
      if (account.endsWith('\u0000') && issues.strict(account, was))
        issues.add('invalid', `${eat}.account`, 'must not end with a NUL byte (Source_Addr is NUL padded)');
      const first = seen.get(account);
      if (first !== undefined) {
        for (const index of [k, first])
          issues.add(
            'conflict',
            `${at}.cmpp.accounts[${index}].account`,
            `must be unique: account "${account}" is listed twice`,
          );
      } else seen.set(account, k);
    }
    issues.optional(`${eat}.maxConnections`, rules.maxConnections, entry.maxConnections);
    checkLoginRate(issues, `${eat}.loginRate`, entry.loginRate);
    if (entry.maxConnections === undefined && entry.loginRate === undefined)
      issues.add('invalid', eat, 'must set maxConnections or loginRate (or both)');
  });
}

function checkLoginRate(issues: Issues, at: string, rate: unknown): void {
  if (rate === undefined) return;
  if (!isObject(rate)) return issues.add('invalid', at, 'must be an object { logins, per }');
  issues.rule(`${at}.logins`, RULES.cmppLimits.logins, rate.logins);
  issues.rule(`${at}.per`, RULES.cmppLimits.per, rate.per);
}

/** `defaults.log`: absent (or null) for none, else a whole target. */
function checkLogTarget(issues: Issues, log: unknown): void {
  if (log === undefined || log === null) return;
  if (!isObject(log))
    return issues.add('invalid', 'defaults.log', 'must be an object { address, port, facility } or null');
  issues.rule('defaults.log.address', RULES.log.address, log.address);
  issues.rule('defaults.log.port', RULES.log.port, log.port);
  issues.rule('defaults.log.facility', RULES.log.facility, log.facility);
}

/** The documented limits (LIMITS); false when the document is over them and not worth checking further. */
export function checkSizes(issues: Pick<Issues, 'add'>, document: Loose): boolean {
  const over = sizeIssues(document);
  for (const issue of over) issues.add(issue.kind, issue.field, issue.message.slice(issue.field.length + 1));
  return over.length === 0;
}

/**
 * Counts against LIMITS without looking at anything else: cheap enough to run on a raw request body
 * before validation (common/validation.ts) and on every whole snapshot.
 */
export function sizeIssues(document: Loose): SnapshotIssue[] {
  const found: SnapshotIssue[] = [];
  const over = (field: string, count: number, max: number, what: string) => {
    found.push({
      kind: 'too-large',
      field,
      message: `${field} must hold at most ${max} ${what} (docs/config-limits.md), got ${count}`,
    });
  };
  const { frontends, backends, allow, servers, binds } = document;
  // The body of one frontend or backend: its own allow-list, binds or servers.
  if (Array.isArray(allow) && allow.length > LIMITS.allowEntries)
    over('allow', allow.length, LIMITS.allowEntries, 'entries');
  if (Array.isArray(binds) && binds.length > LIMITS.bindsPerFrontend)
    over('binds', binds.length, LIMITS.bindsPerFrontend, 'binds');
  if (Array.isArray(servers) && servers.length > LIMITS.servers)
    over('servers', servers.length, LIMITS.servers, 'servers');
  const steps = isObject(document.check) ? document.check.steps : undefined;
  if (Array.isArray(steps) && steps.length > LIMITS.checkSteps)
    over('check.steps', steps.length, LIMITS.checkSteps, 'steps');
  const overrides = isObject(document.cmpp) ? document.cmpp.accounts : undefined;
  if (Array.isArray(overrides) && overrides.length > LIMITS.cmppAccountOverrides)
    over('cmpp.accounts', overrides.length, LIMITS.cmppAccountOverrides, 'accounts');
  if (Array.isArray(frontends)) {
    if (frontends.length > LIMITS.frontends)
      over('frontends', frontends.length, LIMITS.frontends, 'frontends');
    else {
      let total = 0;
      frontends.forEach((f, i) => {
        const allow = isObject(f) ? f.allow : undefined;
        if (Array.isArray(allow) && allow.length > LIMITS.allowEntries)
          over(`frontends[${i}].allow`, allow.length, LIMITS.allowEntries, 'entries');
        const binds = isObject(f) ? f.binds : undefined;
        if (!Array.isArray(binds)) return;
        total += binds.length;
        if (binds.length > LIMITS.bindsPerFrontend)
          over(`frontends[${i}].binds`, binds.length, LIMITS.bindsPerFrontend, 'binds');
      });
      if (total > LIMITS.binds) over('frontends', total, LIMITS.binds, 'binds in all');
    }
  }
  if (Array.isArray(backends)) {
    if (backends.length > LIMITS.backends) over('backends', backends.length, LIMITS.backends, 'backends');
    else {
      let servers = 0;
      for (const b of backends) if (isObject(b) && Array.isArray(b.servers)) servers += b.servers.length;
      backends.forEach((b, i) => {
        const steps = isObject(b) && isObject(b.check) ? b.check.steps : undefined;
        if (Array.isArray(steps) && steps.length > LIMITS.checkSteps)
          over(`backends[${i}].check.steps`, steps.length, LIMITS.checkSteps, 'steps');
        const list = isObject(b) && isObject(b.cmpp) ? b.cmpp.accounts : undefined;
        if (Array.isArray(list) && list.length > LIMITS.cmppAccountOverrides)
          over(`backends[${i}].cmpp.accounts`, list.length, LIMITS.cmppAccountOverrides, 'accounts');
      });
      if (servers > LIMITS.servers) over('backends', servers, LIMITS.servers, 'servers in all');
    }
  }
  return found;
}

/** `before`: the stored frontend of that name, if any (see CheckOptions.stored). */
function checkFrontend(
  issues: Issues,
  at: string,
  frontend: Loose,
  backendNames: Set<unknown>,
  before: Frontend | undefined,
): void {
  const rules = RULES.frontend;
  issues.rule(`${at}.name`, rules.name, frontend.name, before?.name);
  checkBinds(issues, at, frontend, before);
  if (issues.rule(`${at}.backend`, rules.backend, frontend.backend) && !backendNames.has(frontend.backend)) {
    issues.add(
      'unknown-reference',
      `${at}.backend`,
      `must name an existing backend: "${String(frontend.backend)}" is unknown`,
    );
  }
  issues.optional(`${at}.maxconn`, rules.maxconn, frontend.maxconn);
  const allow = frontend.allow;
  if (allow !== undefined) {
    if (!Array.isArray(allow)) issues.add('invalid', `${at}.allow`, 'must be an array of CIDR blocks');
    else if (allow.length === 0 && issues.strict(allow, before?.allow))
      issues.add('invalid', `${at}.allow`, 'must not be empty: leave it out (or null) to allow everyone');
    else allow.forEach((entry, j) => issues.rule(`${at}.allow[${j}]`, rules.allowEntry, entry));
  }
  if (frontend.inspect !== undefined && issues.rule(`${at}.inspect`, rules.inspect, frontend.inspect)) {
    issues.notBuilt(`${at}.inspect`, rules.inspect, frontend.inspect, before?.inspect);
  }
  checkSectionTimeouts(issues, at, frontend.timeouts, FRONTEND_TIMEOUTS);
  issues.rule(`${at}.enabled`, rules.enabled, frontend.enabled);
}

// ---- retries and per-section timeouts (docs/config-model.md, "Retries and per-section timeouts") ----

/** The timeouts a section may set for itself: HAProxy's frontend and backend properties. */
const FRONTEND_TIMEOUTS = ['client'] as const;
const BACKEND_TIMEOUTS = ['connect', 'server', 'tunnel'] as const;

/** A section's `timeouts`: absent, or an object of known keys, each a duration. */
function checkSectionTimeouts(issues: Issues, at: string, timeouts: unknown, keys: readonly string[]): void {
  if (timeouts === undefined) return;
  if (!isObject(timeouts))
    return issues.add('invalid', `${at}.timeouts`, `must be an object of ${keys.join(', ')}`);
  for (const key of Object.keys(timeouts)) {
    if (!keys.includes(key)) {
      issues.add(
        'invalid',
        `${at}.timeouts.${key}`,
        `is not a timeout of this section (it may set ${keys.join(', ')})`,
      );
    }
  }
  for (const key of keys) issues.optional(`${at}.timeouts.${key}`, RULES.sectionTimeout, timeouts[key]);
}

function checkBackendRetries(issues: Issues, at: string, backend: Loose): void {
  issues.optional(`${at}.retries`, RULES.retry.retries, backend.retries);
  issues.optional(`${at}.redispatch`, RULES.retry.redispatch, backend.redispatch);
  checkSectionTimeouts(issues, at, backend.timeouts, BACKEND_TIMEOUTS);
}

/**
 * `bind` is the first of `binds` (docs/config-model.md): both are required and must agree. A frontend
 * with one address names its fields `bind.*` as before; with several, `binds[j].*`.
 */
function checkBinds(issues: Issues, at: string, frontend: Loose, before: Frontend | undefined): void {
  const rules = RULES.frontend;
  const { bind, binds } = frontend;
  if (!isObject(bind)) issues.add('invalid', `${at}.bind`, 'is required');
  if (!Array.isArray(binds) || binds.length === 0) {
    return issues.add('invalid', `${at}.binds`, 'must be an array of 1 or more { address, port }');
  }
  if (binds.length > LIMITS.bindsPerFrontend) {
    return issues.add(
      'too-large',
      `${at}.binds`,
      `must hold at most ${LIMITS.bindsPerFrontend} binds (docs/config-limits.md), got ${binds.length}`,
    );
  }
  const stored = new Set((before?.binds ?? []).map((b) => b.address));
  binds.forEach((b: unknown, j: number) => {
    const field = bindField(at, binds.length, j);
    if (!isObject(b)) return issues.add('invalid', field, 'must be an object { address, port }');
    // A stored address is not held to newer policies (the same as `before` of other fields).
    const was = typeof b.address === 'string' && stored.has(b.address) ? b.address : undefined;
    issues.rule(`${field}.address`, rules.bindAddress, b.address, was);
    issues.rule(`${field}.port`, rules.bindPort, b.port);
  });
  const first = binds[0] as unknown;
  if (isObject(bind) && isObject(first) && (bind.address !== first.address || bind.port !== first.port)) {
    issues.add(
      'invalid',
      `${at}.bind`,
      `must be the first of ${at}.binds (bind is binds[0]): give one of bind and binds, or both agreeing`,
    );
    issues.add(
      'invalid',
      `${at}.binds`,
      `must start with ${at}.bind: give one of bind and binds, or both agreeing`,
    );
  }
}

/** `bind` for a frontend of one address (as before binds existed), `binds[j]` for several. */
function bindField(at: string, count: number, j: number): string {
  return count === 1 ? `${at}.bind` : `${at}.binds[${j}]`;
}

/** `backend.cmpp`'s close settings (docs/cmpp-session-control.md); absent: the defaults. */
function checkBackendCmppClose(issues: Issues, at: string, cmpp: unknown): void {
  if (!isObject(cmpp)) return; // checkBackendCmpp names a cmpp that is not an object
  issues.optional(`${at}.cmpp.closeTimeout`, RULES.cmppClose.closeTimeout, cmpp.closeTimeout);
}

/** `before`: the stored backend of that name, if any (see CheckOptions.stored). */
function checkBackend(issues: Issues, at: string, backend: Loose, before: Backend | undefined): void {
  const rules = RULES.backend;
  issues.rule(`${at}.name`, rules.name, backend.name, before?.name);
  issues.rule(`${at}.balance`, rules.balance, backend.balance);
  issues.rule(`${at}.hashType`, rules.hashType, backend.hashType);
  issues.rule(`${at}.sendProxy`, rules.sendProxy, backend.sendProxy);
  issues.rule(`${at}.onMarkedDown`, rules.onMarkedDown, backend.onMarkedDown);
  const check = backend.check;
  if (!isObject(check)) issues.add('invalid', `${at}.check`, 'is required');
  else {
    if (issues.rule(`${at}.check.type`, RULES.check.type, check.type)) {
      issues.notBuilt(`${at}.check.type`, RULES.check.type, check.type, before?.check.type);
    }
    issues.rule(`${at}.check.inter`, RULES.check.inter, check.inter);
    issues.rule(`${at}.check.fall`, RULES.check.fall, check.fall);
    issues.rule(`${at}.check.rise`, RULES.check.rise, check.rise);
    issues.optional(`${at}.check.timeout`, RULES.check.timeout, check.timeout);
    issues.optional(`${at}.check.fastinter`, RULES.check.fastinter, check.fastinter);
    issues.optional(`${at}.check.downinter`, RULES.check.downinter, check.downinter);
    checkSteps(issues, `${at}.check`, check);
    const cmpp = check.cmpp;
    // A tcp or none check would ignore it (a PATCH of `check` without its type turns it into a tcp check):
    // refused as new input; a config stored with it before this rule keeps loading.
    const storedIgnored = before?.check.type === check.type && before?.check.cmpp !== undefined;
    if (
      cmpp !== undefined &&
      typeof check.type === 'string' &&
      check.type !== 'cmpp' &&
      issues.strict(cmpp, storedIgnored ? cmpp : undefined)
    )
      issues.add(
        'invalid',
        `${at}.check.cmpp`,
        `is used by a cmpp check only: check.type is ${shown(check.type)} (set type cmpp, or leave cmpp out)`,
      );
    if (cmpp !== undefined) {
      if (!isObject(cmpp)) issues.add('invalid', `${at}.check.cmpp`, 'must be an object');
      else {
        const account = cmpp.sourceAddr;
        const was = before?.check.cmpp?.sourceAddr;
        if (
          issues.rule(`${at}.check.cmpp.sourceAddr`, RULES.cmpp.sourceAddr, account, was) &&
          typeof account === 'string' &&
          account.endsWith('\u0000') &&
          issues.strict(account, was)
        )
          // The gateway reads the NUL-padded Source_Addr without its NULs and computes the authenticator over
          // that: a check logging in as "9012\0" could never succeed (as for backend.cmpp.accounts).
          issues.add(
            'invalid',
            `${at}.check.cmpp.sourceAddr`,
            'must not end with a NUL byte (Source_Addr is NUL padded)',
          );
        issues.rule(`${at}.check.cmpp.secret`, RULES.cmpp.secret, cmpp.secret);
        issues.rule(`${at}.check.cmpp.version`, RULES.cmpp.version, cmpp.version);
      }
    } else if (check.type === 'cmpp') {
      issues.add(
        'invalid',
        `${at}.check.cmpp`,
        'is required when check.type is cmpp (sourceAddr, secret, version)',
      );
    }
  }
  checkBackendRetries(issues, at, backend);
  checkBackendCmpp(issues, at, backend.cmpp, before?.cmpp);
  checkBackendCmppClose(issues, at, backend.cmpp);
  const servers = backend.servers;
  if (!Array.isArray(servers)) return issues.add('invalid', `${at}.servers`, 'must be an array');
  const names = new UniqueNames(issues, `${at}.servers`, `server of backend "${String(backend.name)}"`);
  const storedServers = new Set(before?.servers.map((s) => s.name));
  servers.forEach((server, j) => {
    const sat = `${at}.servers[${j}]`;
    if (!isObject(server)) return issues.add('invalid', sat, 'must be an object');
    names.add(j, server.name);
    const rules = RULES.server;
    issues.rule(
      `${sat}.name`,
      rules.name,
      server.name,
      storedServers.has(server.name as string) ? server.name : undefined,
    );
    issues.rule(`${sat}.address`, rules.address, server.address);
    issues.rule(`${sat}.port`, rules.port, server.port);
    issues.rule(`${sat}.weight`, rules.weight, server.weight);
    issues.optional(`${sat}.maxconn`, rules.maxconn, server.maxconn);
    issues.rule(`${sat}.backup`, rules.backup, server.backup);
    issues.rule(`${sat}.check`, rules.check, server.check);
    issues.optional(`${sat}.checkPort`, rules.checkPort, server.checkPort);
  });
}

/**
 * A text step: ASCII without NUL (HAProxy's text protocols; other bytes go as hex in `instead`), so that it is
 * written into a haproxy.cfg, read back as the same text and sent by HAProxy as the same bytes (docs/health-checks.md).
 */
function asciiText(issues: Issues, field: string, rule: FieldRule, value: unknown, instead: string): void {
  if (!issues.rule(field, rule, value)) return;
  if (issues.strict(value, undefined) && !isCheckText(value as string))
    issues.add('invalid', field, `must be ASCII text without NUL: write other bytes as hex in ${instead}`);
}

/** ASCII without NUL: HAProxy reads its tcp-check texts as C strings (a NUL would end them there). */
export function isCheckText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code > 0x7f) return false;
  }
  return true;
}

const STEP_SHAPE = 'must be one of { send }, { sendBinary }, { expect: { string } }, { expect: { binary } }';

/**
 * `check.steps`: a tcp-check sequence (docs/health-checks.md), type tcp only, at most LIMITS.checkSteps steps of
 * exactly one action each. The runtime holds it to the same shape; payload sizes are policies on new input.
 */
function checkSteps(issues: Issues, at: string, check: Loose): void {
  const steps = check.steps;
  if (steps === undefined) return;
  if (!Array.isArray(steps))
    return issues.add('invalid', `${at}.steps`, `must be an array: each step ${STEP_SHAPE}`);
  if (steps.length > LIMITS.checkSteps)
    return issues.add(
      'too-large',
      `${at}.steps`,
      `must hold at most ${LIMITS.checkSteps} steps (docs/config-limits.md), got ${steps.length}`,
    );
  if (check.type !== 'tcp' && steps.length > 0)
    issues.add('invalid', `${at}.steps`, `are run by a tcp check only: check.type is ${shown(check.type)}`);
  const rules = RULES.checkStep;
  steps.forEach((step: unknown, k: number) => {
    const sat = `${at}.steps[${k}]`;
    const keys = isObject(step) ? Object.keys(step) : [];
    if (!isObject(step) || keys.length !== 1) return issues.add('invalid', sat, STEP_SHAPE);
    if ('send' in step) return asciiText(issues, `${sat}.send`, rules.send, step.send, 'sendBinary');
    if ('sendBinary' in step) return void issues.rule(`${sat}.sendBinary`, rules.sendBinary, step.sendBinary);
    const expect = step.expect;
    const what = isObject(expect) ? Object.keys(expect) : [];
    if (!('expect' in step) || !isObject(expect) || what.length !== 1)
      return issues.add('invalid', sat, STEP_SHAPE);
    if ('string' in expect)
      return asciiText(issues, `${sat}.expect.string`, rules.expectString, expect.string, 'expect.binary');
    if ('binary' in expect)
      return void issues.rule(`${sat}.expect.binary`, rules.expectBinary, expect.binary);
    issues.add('invalid', `${sat}.expect`, 'must be { string } or { binary }');
  });
}

/** Duplicate names, reported at both ends (the later first) so a request editing either sees its own field. */
class UniqueNames {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly issues: Issues,
    private readonly at: string,
    private readonly what: string,
  ) {}

  add(index: number, name: unknown): void {
    if (typeof name !== 'string') return;
    const first = this.seen.get(name);
    if (first === undefined) {
      this.seen.set(name, index);
      return;
    }
    for (const i of [index, first]) {
      this.issues.add(
        'conflict',
        `${this.at}[${i}].name`,
        `must be unique: another ${this.what} is named "${name}"`,
      );
    }
  }
}

/**
 * Bind clashes as Linux sees them, in one pass: the same port and the same address (IPv4-mapped
 * IPv6 counts as the IPv4 address), `0.0.0.0` against any IPv4 address, and `::` (dual-stack)
 * against anything. Per port, it keeps the first frontend of each address and of each wildcard.
 */
class BindClashes {
  private readonly ports = new Map<number, PortBinds>();

  constructor(private readonly issues: Issues) {}

  add(index: number, frontend: Loose): void {
    const binds = frontend.binds as unknown[];
    binds.forEach((bind, j) => {
      if (!isObject(bind)) return;
      const ip = typeof bind.address === 'string' ? canonicalIp(bind.address) : undefined;
      if (ip === undefined || typeof bind.port !== 'number') return;
      let port = this.ports.get(bind.port);
      if (!port) this.ports.set(bind.port, (port = new PortBinds()));
      const field = bindField(`frontends[${index}]`, binds.length, j);
      const self = { field, name: String(frontend.name), address: ip, port: bind.port };
      const other = port.clashWith(self.address);
      if (other) {
        this.issues.add(
          'conflict',
          field,
          `must be unique: ${formatBind(self)} overlaps ${formatBind(other)} of frontend "${other.name}"`,
        );
        this.issues.add(
          'conflict',
          other.field,
          `must be unique: ${formatBind(other)} overlaps ${formatBind(self)} of frontend "${self.name}"`,
        );
      }
      port.keep(self);
    });
  }
}

interface BindSeen {
  /** e.g. `frontends[2].bind` or `frontends[2].binds[1]`. */
  field: string;
  name: string;
  address: string;
  port: number;
}

class PortBinds {
  private anyV6?: BindSeen;
  private anyV4?: BindSeen;
  private readonly byAddress = new Map<string, BindSeen>();
  private firstV4?: BindSeen;
  private first?: BindSeen;

  clashWith(address: string): BindSeen | undefined {
    if (this.anyV6) return this.anyV6;
    if (address === '::') return this.first;
    const v4 = isIP(address) === 4;
    if (address === '0.0.0.0') return this.firstV4;
    return (v4 ? this.anyV4 : undefined) ?? this.byAddress.get(address);
  }

  keep(seen: BindSeen): void {
    this.first ??= seen;
    if (seen.address === '::') this.anyV6 ??= seen;
    else if (seen.address === '0.0.0.0') this.anyV4 ??= seen;
    if (isIP(seen.address) === 4) this.firstV4 ??= seen;
    if (!this.byAddress.has(seen.address)) this.byAddress.set(seen.address, seen);
  }
}

function formatBind(bind: { address: string; port: number }): string {
  return isIP(bind.address) === 6 ? `[${bind.address}]:${bind.port}` : `${bind.address}:${bind.port}`;
}

/** The stored frontends and backends by name: what a change leaves as it was is not held to newer policies. */
class StoredItems {
  private readonly frontends = new Map<string, Frontend>();
  private readonly backends = new Map<string, Backend>();

  constructor(stored: Snapshot | undefined) {
    for (const f of stored?.frontends ?? []) this.frontends.set(f.name, f);
    for (const b of stored?.backends ?? []) this.backends.set(b.name, b);
  }

  frontend(name: unknown): Frontend | undefined {
    return typeof name === 'string' ? this.frontends.get(name) : undefined;
  }

  backend(name: unknown): Backend | undefined {
    return typeof name === 'string' ? this.backends.get(name) : undefined;
  }
}
