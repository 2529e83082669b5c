// Canonical snapshots: defaults filled in, optional fields absent rather than undefined, keys in one
// fixed order. Two snapshots that mean the same thing then serialise to the same JSON, which is
// what "skip if nothing changed" and the diffs compare.
import { canonicalIp } from '../schema/addresses.js';
import {
  DEFAULT_CHECK,
  DEFAULT_DEFAULTS,
  type Backend,
  type BackendCheck,
  type BackendCmpp,
  type Bind,
  type CheckStep,
  type CmppCheck,
  type Defaults,
  DEFAULT_SYSLOG_FACILITY,
  DEFAULT_SYSLOG_PORT,
  type LogTarget,
  type Frontend,
  type Server,
  type Snapshot,
} from '../schema/snapshot.js';

type Loose<T> = { [K in keyof T]?: T[K] | null };

export interface SnapshotInput {
  defaults?: Loose<Omit<Defaults, 'timeouts' | 'log'>> & {
    timeouts?: Loose<Defaults['timeouts']> | null;
    log?: Loose<LogTarget> | null;
  };
  frontends?: FrontendInput[] | null;
  backends?: BackendInput[] | null;
}
export type FrontendInput = Loose<Omit<Frontend, 'bind' | 'binds'>> & {
  bind?: Loose<Bind> | null;
  binds?: Array<Loose<Bind> | null> | null;
};
export type CheckInput = Loose<Omit<BackendCheck, 'cmpp' | 'steps'>> & {
  cmpp?: Loose<CmppCheck> | null;
  /** Checked as a whole by the document check; kept as given apart from key order. */
  steps?: unknown;
};
export type BackendInput = Loose<Omit<Backend, 'check' | 'servers' | 'cmpp'>> & {
  check?: CheckInput | null;
  /** Checked as a whole by the document check; kept as given apart from dropping empty parts. */
  cmpp?: unknown;
  servers?: ServerInput[] | null;
};
export type ServerInput = Loose<Server>;

/** `stored`: the head the input was read from, if any; see normalizeFrontend. */
export function normalizeSnapshot(input: SnapshotInput, stored?: Snapshot): Snapshot {
  const before = new Map((stored?.frontends ?? []).map((f) => [f.name, f]));
  const timeouts = input.defaults?.timeouts ?? {};
  return {
    defaults: {
      maxconn: input.defaults?.maxconn ?? DEFAULT_DEFAULTS.maxconn,
      timeouts: {
        connect: timeouts.connect ?? DEFAULT_DEFAULTS.timeouts.connect,
        client: timeouts.client ?? DEFAULT_DEFAULTS.timeouts.client,
        server: timeouts.server ?? DEFAULT_DEFAULTS.timeouts.server,
        check: timeouts.check ?? DEFAULT_DEFAULTS.timeouts.check,
        ...(timeouts.tunnel != null ? { tunnel: timeouts.tunnel } : {}),
      },
      ...normalizeLogTarget(input.defaults?.log),
    },
    frontends: (input.frontends ?? []).map((f) =>
      normalizeFrontend(f, typeof f?.name === 'string' ? before.get(f.name) : undefined),
    ),
    backends: (input.backends ?? []).map(normalizeBackend),
  };
}

/** `defaults.log`: absent when none (null clears it); a port or facility left out is HAProxy's default. */
function normalizeLogTarget(log: Loose<LogTarget> | null | undefined): { log?: LogTarget } {
  if (log === undefined || log === null) return {};
  // Not an object: kept as given, for the document check to refuse.
  if (typeof log !== 'object') return { log: log as LogTarget };
  return {
    log: {
      address: log.address as string,
      port: log.port ?? DEFAULT_SYSLOG_PORT,
      facility: log.facility ?? DEFAULT_SYSLOG_FACILITY,
    },
  };
}

/**
 * `bind` and `binds` both filled: a write may give either (docs/config-model.md). When both are given
 * and disagree (and `stored` doesn't tell which one was edited), both are kept as given and the
 * document check refuses them, naming both.
 */
export function normalizeFrontend(input: FrontendInput, stored?: Frontend): Frontend {
  let binds = Array.isArray(input.binds) ? input.binds.map(normalizeBind) : undefined;
  let bind = input.bind != null || !binds?.length ? normalizeBind(input.bind) : binds[0];
  // A client that read the frontend and sends it back with one of the two edited: the edited one wins
  // (an older client knows only `bind`; a newer one may leave the `bind` it read as it was).
  if (stored !== undefined && binds !== undefined && input.bind != null && !sameBind(bind, binds[0])) {
    const bindsAsStored = JSON.stringify(binds) === JSON.stringify(stored.binds);
    if (bindsAsStored && !sameBind(bind, stored.bind)) binds = [bind, ...stored.binds.slice(1)];
    else if (!bindsAsStored && sameBind(bind, stored.bind)) bind = binds[0];
  }
  return compact({
    name: input.name as string,
    bind,
    binds: binds ?? [bind],
    backend: input.backend as string,
    maxconn: input.maxconn ?? undefined,
    allow: input.allow ? [...input.allow] : undefined,
    inspect: input.inspect ?? undefined,
    timeouts: sectionTimeouts(input.timeouts),
    enabled: input.enabled ?? true,
  });
}

function sameBind(a: Bind | undefined, b: Bind | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function normalizeBind(input: Loose<Bind> | null | undefined): Bind {
  if (input === null || input === undefined)
    return { address: '0.0.0.0', port: undefined as unknown as number };
  // Not an object: kept as given, for the check to name.
  if (typeof input !== 'object') return input as unknown as Bind;
  return { address: canonicalBindAddress(input.address ?? '0.0.0.0'), port: input.port as number };
}

/**
 * A PATCH of a stored frontend: `bind` alone replaces the first address and keeps the others, `binds`
 * alone replaces them all (and so the first); both go to the check as given.
 */
export function patchBinds(stored: Frontend, patch: FrontendInput): FrontendInput {
  const hasBind = patch.bind != null;
  const hasBinds = patch.binds != null;
  if (hasBind && !hasBinds) return { ...patch, binds: [patch.bind!, ...stored.binds.slice(1)] };
  // null: mergePatch drops the stored `bind`, normalize takes the first of `binds`.
  if (hasBinds && !hasBind) return { ...patch, bind: null };
  return patch;
}

export function normalizeBackend(input: BackendInput): Backend {
  return {
    name: input.name as string,
    balance: input.balance ?? 'source',
    hashType: input.hashType ?? 'consistent',
    check: normalizeCheck(input.check ?? {}),
    sendProxy: input.sendProxy ?? 'none',
    onMarkedDown: input.onMarkedDown ?? 'keep',
    ...compact({
      retries: input.retries ?? undefined,
      redispatch: input.redispatch ?? undefined,
      timeouts: sectionTimeouts(input.timeouts),
    }),
    ...normalizeBackendCmpp(input.cmpp),
    servers: (input.servers ?? []).map(normalizeServer),
  };
}

/**
 * A section's own `timeouts` (docs/config-model.md): nulls left out, none at all when empty, so a section that sets
 * none is stored as before the field existed. Not an object: kept as given, for the document check to name.
 */
function sectionTimeouts<T extends object>(input: T | null | undefined): T | undefined {
  if (input === undefined || input === null) return undefined;
  if (!isPlain(input)) return input;
  // One key order (unknown keys last, for the check to name), so equal timeouts serialise alike.
  const order = ['client', 'connect', 'server', 'tunnel'];
  const keys = Object.keys(input).sort((a, b) => rank(order, a) - rank(order, b));
  const kept = Object.fromEntries(
    keys.filter((k) => input[k] !== null && input[k] !== undefined).map((k) => [k, input[k]]),
  );
  return Object.keys(kept).length === 0 ? undefined : (kept as T);
}

function rank(order: string[], key: string): number {
  const i = order.indexOf(key);
  return i === -1 ? order.length : i;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `backend.cmpp` in one key order, nulls and empty parts left out (an empty `cmpp` is none at all). Anything
 * not of the expected shape is kept as given, for the document check to name.
 */
export function normalizeBackendCmpp(input: unknown): { cmpp?: BackendCmpp } {
  if (input === undefined || input === null) return {};
  if (!isPlain(input)) return { cmpp: input as BackendCmpp };
  const rate = (r: unknown) =>
    isPlain(r) ? compact({ logins: r.logins ?? undefined, per: r.per ?? undefined }) : (r ?? undefined);
  const loginRate = isPlain(input.loginRate)
    ? compact({ perAccount: rate(input.loginRate.perAccount), perSource: rate(input.loginRate.perSource) })
    : (input.loginRate ?? undefined);
  const accounts = Array.isArray(input.accounts)
    ? input.accounts.map((a: unknown) =>
        isPlain(a)
          ? compact({
              account: a.account ?? undefined,
              maxConnections: a.maxConnections ?? undefined,
              loginRate: rate(a.loginRate),
            })
          : a,
      )
    : (input.accounts ?? undefined);
  const cmpp = compact({
    maxConnectionsPerAccount: input.maxConnectionsPerAccount ?? undefined,
    loginRate: isPlain(loginRate) && Object.keys(loginRate).length === 0 ? undefined : loginRate,
    accounts: Array.isArray(accounts) && accounts.length === 0 ? undefined : accounts,
    closeTimeout: input.closeTimeout ?? undefined,
  }) as BackendCmpp;
  return Object.keys(cmpp).length === 0 ? {} : { cmpp };
}

export function normalizeCheck(input: CheckInput): BackendCheck {
  return compact({
    type: input.type ?? DEFAULT_CHECK.type,
    inter: input.inter ?? DEFAULT_CHECK.inter,
    fall: input.fall ?? DEFAULT_CHECK.fall,
    rise: input.rise ?? DEFAULT_CHECK.rise,
    timeout: input.timeout ?? undefined,
    fastinter: input.fastinter ?? undefined,
    downinter: input.downinter ?? undefined,
    steps: normalizeSteps(input.steps),
    cmpp: input.cmpp
      ? {
          sourceAddr: input.cmpp.sourceAddr as string,
          secret: input.cmpp.secret as string,
          version: input.cmpp.version ?? '3.0',
        }
      : undefined,
  });
}

/**
 * `check.steps`: null and an empty list are none; a step keeps its one key (an expect's too) as given, so
 * anything not of the expected shape reaches the document check, which names it.
 */
function normalizeSteps(input: unknown): CheckStep[] | undefined {
  if (input === undefined || input === null) return undefined;
  if (!Array.isArray(input)) return input as CheckStep[];
  if (input.length === 0) return undefined;
  // Copies without undefined keys: a DTO instance holds every declared key, given or not.
  return input.map((step: unknown) => {
    if (!isPlain(step)) return step;
    const copy = compact({ ...step });
    if (isPlain(copy.expect)) copy.expect = compact({ ...copy.expect });
    return copy;
  }) as CheckStep[];
}

export function normalizeServer(input: ServerInput): Server {
  return compact({
    name: input.name as string,
    address: input.address as string,
    port: input.port as number,
    weight: input.weight ?? 1,
    maxconn: input.maxconn ?? undefined,
    backup: input.backup ?? false,
    check: input.check ?? true,
    checkPort: input.checkPort ?? undefined,
  });
}

/**
 * One spelling per address: `::ffff:127.0.0.1` is stored as `127.0.0.1` and IPv6 in canonical form, so
 * a change of spelling is no change (the runtime would otherwise rebind a port its listener holds).
 * Anything that is not an IP address is kept as given, for the check to name.
 */
function canonicalBindAddress(address: string): string {
  return (typeof address === 'string' && canonicalIp(address)) || address;
}

/** Drops keys whose value is undefined, so JSON comparison sees absent and undefined alike. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

/** Stable serialisation of a canonical snapshot. */
export function snapshotJson(snapshot: Snapshot): string {
  return JSON.stringify(snapshot, null, 2);
}

export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
