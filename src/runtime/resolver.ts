// Server host names, as HAProxy's `resolvers` treat them: resolved when a snapshot is applied (before
// anything is swapped; a name that doesn't resolve refuses the apply, naming the field), then
// re-resolved every intervalMs. Connections and checks use the address held on the server, so the
// hot path never waits for DNS. A name that stops resolving (NXDOMAIN: ENOTFOUND/ENODATA) takes its
// servers DOWN; any other failure (timeout, SERVFAIL) keeps the last good address.
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { Snapshot } from '../schema/snapshot.js';
import { RuntimeError } from './errors.js';
import { markResolution } from './server-health.js';
import type { RuntimeState } from './state.js';

/** Every address a name has; the runtime takes the first IPv4 one, else the first. */
export type Lookup = (host: string) => Promise<string[]>;

export interface ResolverSettings {
  lookup: Lookup;
  /** Re-resolution period (HAProxy: `hold valid` / `timeout resolve`). */
  intervalMs: number;
  /** A lookup that takes longer counts as a (transient) failure. */
  timeoutMs: number;
}

export const systemLookup: Lookup = async (host) =>
  (await dns.promises.lookup(host, { all: true })).map((a) => a.address);

/** The latest answer for one name: its address (last good) and, while failing for good, why. */
export interface NameEntry {
  address: string;
  /** Set while the name no longer resolves: the servers using it are DOWN. */
  error?: string;
}

/**
 * Lookups in flight at once. dns.lookup (getaddrinfo) runs on libuv's thread pool (4 threads), which
 * logins' scrypt shares: a config of many names, or a dry run a viewer sends, must not fill it.
 */
const LOOKUPS_IN_FLIGHT = 2;

/**
 * Resolves the names, at most LOOKUPS_IN_FLIGHT at a time; results in the order of `names`. With
 * `stopAtFailure` no lookup starts after one failed (an apply is refused by its first bad name, so a
 * resolver outage costs it one timeout, not one per name); names never tried have no result.
 */
async function resolveAll(
  settings: ResolverSettings,
  names: string[],
  stopAtFailure = false,
): Promise<Array<PromiseSettledResult<string> | undefined>> {
  const results = new Array<PromiseSettledResult<string> | undefined>(names.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < names.length && !(stopAtFailure && failed)) {
      const k = next++;
      try {
        results[k] = { status: 'fulfilled', value: await resolveOne(settings, names[k]) };
      } catch (reason) {
        results[k] = { status: 'rejected', reason };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS_IN_FLIGHT, names.length) }, worker));
  return results;
}

/** Answers that mean the name does not exist (as opposed to a resolver that failed to answer). */
const GONE = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME']);

export function isHostName(address: string): boolean {
  return isIP(address) === 0;
}

/** "DNS: name no longer resolves (ENOTFOUND)": the check description of a server DOWN for DNS. */
export function unresolvedDescription(code: string): string {
  return `DNS: name no longer resolves (${code})`;
}

async function resolveOne(settings: ResolverSettings, name: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`lookup ${name} timed out`), { code: 'ETIMEOUT' })),
      settings.timeoutMs,
    );
  });
  try {
    const addresses = await Promise.race([settings.lookup(name), timeout]);
    const address = addresses.find((a) => isIP(a) === 4) ?? addresses.find((a) => isIP(a) !== 0);
    if (address === undefined) throw Object.assign(new Error(`${name}: no address`), { code: 'ENODATA' });
    return address;
  } finally {
    clearTimeout(timer);
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

/**
 * Resolves the host names of `snapshot` the runtime doesn't hold yet (names it holds are kept up to
 * date by the periodic refresh, so a change that doesn't touch them never fails on them). Throws
 * RuntimeError INVALID_SNAPSHOT naming the first server whose name doesn't resolve.
 */
export async function resolveNewNames(
  state: RuntimeState,
  snapshot: Snapshot,
  tolerate = false,
): Promise<Map<string, NameEntry>> {
  const wanted = new Map<string, string>(); // name → field of its first server
  snapshot.backends.forEach((b, i) =>
    b.servers.forEach((s, j) => {
      if (isHostName(s.address) && !state.names.has(s.address) && !wanted.has(s.address))
        wanted.set(s.address, `backends[${i}].servers[${j}].address`);
    }),
  );
  const names = [...wanted.keys()];
  const results = await resolveAll(state.resolver, names, !tolerate);
  const resolved = new Map<string, NameEntry>();
  results.forEach((result, k) => {
    if (result?.status === 'fulfilled') resolved.set(names[k], { address: result.value });
    // Tolerated (boot): held without an address, its servers DOWN until a re-resolution answers.
    else if (result)
      resolved.set(names[k], { address: '', error: unresolvedDescription(codeOf(result.reason)) });
  });
  const failed = results.findIndex((r) => r?.status === 'rejected');
  if (failed >= 0 && !tolerate) {
    const name = names[failed];
    const field = wanted.get(name)!;
    const code = codeOf((results[failed] as PromiseRejectedResult).reason);
    throw new RuntimeError(
      'INVALID_SNAPSHOT',
      `${field}: host name "${name}" does not resolve (${code})`,
      { field },
      code,
    );
  }
  return resolved;
}

/** In the swap: the names of the new snapshot and their addresses; names no server uses are dropped. */
export function adoptNames(state: RuntimeState, snapshot: Snapshot, resolved: Map<string, NameEntry>): void {
  const used = new Set<string>();
  for (const b of snapshot.backends)
    for (const s of b.servers) if (isHostName(s.address)) used.add(s.address);
  for (const name of state.names.keys()) if (!used.has(name)) state.names.delete(name);
  for (const [name, entry] of resolved) state.names.set(name, entry);
}

/** The address a server connects and checks to, and its DNS failure if any. */
export function addressOf(state: RuntimeState, address: string): { ip: string; dnsError?: string } {
  if (!isHostName(address)) return { ip: address };
  const entry = state.names.get(address);
  return { ip: entry?.address ?? '', dnsError: entry?.error };
}

/** One round of re-resolution of every held name; servers follow their name's new answer. */
export async function refreshNames(state: RuntimeState): Promise<void> {
  if (state.closed || state.refreshingNames || state.names.size === 0) return;
  state.refreshingNames = true;
  try {
    const names = [...state.names.keys()];
    const results = await resolveAll(state.resolver, names);
    if (state.closed) return;
    const changed = new Set<string>();
    results.forEach((result, k) => {
      const name = names[k];
      const entry = state.names.get(name);
      if (entry === undefined || result === undefined) return; // an apply dropped it meanwhile
      if (result.status === 'fulfilled') {
        if (entry.address === result.value && entry.error === undefined) return;
        if (entry.address !== result.value)
          state.log('info', `host name ${name} now resolves to ${result.value} (was ${entry.address})`);
        state.names.set(name, { address: result.value });
        changed.add(name);
        return;
      }
      if (entry.address === '') return; // never resolved (tolerated at boot): still DOWN
      const code = codeOf(result.reason);
      if (!GONE.has(code)) {
        state.log('warn', `host name ${name}: ${code}; keeping ${entry.address}`);
        return;
      }
      if (entry.error !== undefined) return;
      state.log('warn', `host name ${name} no longer resolves (${code})`);
      state.names.set(name, { address: entry.address, error: unresolvedDescription(code) });
      changed.add(name);
    });
    if (changed.size === 0) return;
    for (const backend of state.backends.values()) {
      for (const server of backend.servers) {
        if (!changed.has(server.config.address)) continue;
        markResolution(state, backend, server, addressOf(state, server.config.address));
      }
    }
  } finally {
    state.refreshingNames = false;
  }
}
