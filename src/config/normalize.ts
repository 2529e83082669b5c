// Canonical snapshots: defaults filled in, optional fields absent rather than undefined, keys in one
// fixed order. Two snapshots that mean the same thing then serialise to the same JSON, which is
// what "skip if nothing changed" and the diffs compare.
import { canonicalIp } from '../schema/addresses.js';
import {
  DEFAULT_CHECK,
  DEFAULT_DEFAULTS,
  type Backend,
  type BackendCheck,
  type CmppCheck,
  type Defaults,
  type Frontend,
  type Server,
  type Snapshot,
} from '../schema/snapshot.js';

type Loose<T> = { [K in keyof T]?: T[K] | null };

export interface SnapshotInput {
  defaults?: Loose<Omit<Defaults, 'timeouts'>> & { timeouts?: Loose<Defaults['timeouts']> | null };
  frontends?: FrontendInput[] | null;
  backends?: BackendInput[] | null;
}
export type FrontendInput = Loose<Omit<Frontend, 'bind'>> & { bind?: Loose<Frontend['bind']> | null };
export type CheckInput = Loose<Omit<BackendCheck, 'cmpp'>> & { cmpp?: Loose<CmppCheck> | null };
export type BackendInput = Loose<Omit<Backend, 'check' | 'servers'>> & {
  check?: CheckInput | null;
  servers?: ServerInput[] | null;
};
export type ServerInput = Loose<Server>;

export function normalizeSnapshot(input: SnapshotInput): Snapshot {
  const timeouts = input.defaults?.timeouts ?? {};
  return {
    defaults: {
      maxconn: input.defaults?.maxconn ?? DEFAULT_DEFAULTS.maxconn,
      timeouts: {
        connect: timeouts.connect ?? DEFAULT_DEFAULTS.timeouts.connect,
        client: timeouts.client ?? DEFAULT_DEFAULTS.timeouts.client,
        server: timeouts.server ?? DEFAULT_DEFAULTS.timeouts.server,
        check: timeouts.check ?? DEFAULT_DEFAULTS.timeouts.check,
      },
    },
    frontends: (input.frontends ?? []).map(normalizeFrontend),
    backends: (input.backends ?? []).map(normalizeBackend),
  };
}

export function normalizeFrontend(input: FrontendInput): Frontend {
  return compact({
    name: input.name as string,
    bind: {
      address: canonicalBindAddress(input.bind?.address ?? '0.0.0.0'),
      port: input.bind?.port as number,
    },
    backend: input.backend as string,
    maxconn: input.maxconn ?? undefined,
    allow: input.allow ? [...input.allow] : undefined,
    inspect: input.inspect ?? undefined,
    enabled: input.enabled ?? true,
  });
}

export function normalizeBackend(input: BackendInput): Backend {
  return {
    name: input.name as string,
    balance: input.balance ?? 'source',
    hashType: input.hashType ?? 'consistent',
    check: normalizeCheck(input.check ?? {}),
    sendProxy: input.sendProxy ?? 'none',
    onMarkedDown: input.onMarkedDown ?? 'keep',
    servers: (input.servers ?? []).map(normalizeServer),
  };
}

export function normalizeCheck(input: CheckInput): BackendCheck {
  return compact({
    type: input.type ?? DEFAULT_CHECK.type,
    inter: input.inter ?? DEFAULT_CHECK.inter,
    fall: input.fall ?? DEFAULT_CHECK.fall,
    rise: input.rise ?? DEFAULT_CHECK.rise,
    timeout: input.timeout ?? undefined,
    cmpp: input.cmpp
      ? {
          sourceAddr: input.cmpp.sourceAddr as string,
          secret: input.cmpp.secret as string,
          version: input.cmpp.version ?? '3.0',
        }
      : undefined,
  });
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
