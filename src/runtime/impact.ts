// What applying a candidate snapshot would do to live traffic, computed without applying it:
// listeners bound and closed, servers leaving with their sessions, and for hashed backends how many
// of today's clients would land on a different server on their next connection.
import type { Backend, Frontend, Snapshot } from '../schema/snapshot.js';
import type { BalanceContext, BalancedServer } from './balancers/balancer.js';
import { createBalancer, isHashed } from './balancers/registry.js';
import type { ImpactReport, SessionInfo } from './types.js';

export function computeImpact(current: Snapshot, candidate: Snapshot, sessions: SessionInfo[]): ImpactReport {
  const index = indexSessions(sessions);
  return {
    listenersOpened: listenersOpened(current, candidate),
    listenersClosed: listenersClosed(current, candidate, index),
    serversRemoved: serversRemoved(current, candidate, index),
    rehashed: rehashed(current, candidate, index),
  };
}

/** Sessions counted once per frontend and server, and clients per backend: every lookup below is O(1),
 *  so 5,000 removed frontends against 50,000 sessions stay one pass over each (not their product). */
interface SessionIndex {
  perFrontend: Map<string, number>;
  perServer: Map<string, number>;
  /** Distinct client addresses per backend. */
  clientsPerBackend: Map<string, Set<string>>;
  /** Distinct SP accounts per backend (sessions whose CONNECT named one), with one of their addresses. */
  accountsPerBackend: Map<string, Map<string, string>>;
  /** Distinct addresses of the sessions that named no account. */
  anonymousPerBackend: Map<string, Set<string>>;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function indexSessions(sessions: SessionInfo[]): SessionIndex {
  const index: SessionIndex = {
    perFrontend: new Map(),
    perServer: new Map(),
    clientsPerBackend: new Map(),
    accountsPerBackend: new Map(),
    anonymousPerBackend: new Map(),
  };
  for (const s of sessions) {
    index.perFrontend.set(s.frontend, (index.perFrontend.get(s.frontend) ?? 0) + 1);
    if (s.server !== null) {
      const key = serverKey(s.backend, s.server);
      index.perServer.set(key, (index.perServer.get(key) ?? 0) + 1);
    }
    addTo(index.clientsPerBackend, s.backend, s.clientAddress);
    if (s.account === undefined) {
      addTo(index.anonymousPerBackend, s.backend, s.clientAddress);
      continue;
    }
    let accounts = index.accountsPerBackend.get(s.backend);
    if (!accounts) index.accountsPerBackend.set(s.backend, (accounts = new Map()));
    if (!accounts.has(s.account)) accounts.set(s.account, s.clientAddress);
  }
  return index;
}

function serverKey(backend: string, server: string): string {
  return `${backend}/${server}`;
}

/** The binds of an enabled frontend, by `address:port` (none when disabled or absent). */
function listening(f: Frontend | undefined): Set<string> {
  return new Set(f?.enabled ? f.binds.map((b) => `${b.address}:${b.port}`) : []);
}

/** Binds of enabled frontends that are new, newly enabled, or added to a frontend. */
function listenersOpened(current: Snapshot, candidate: Snapshot): ImpactReport['listenersOpened'] {
  const before = new Map(current.frontends.map((f) => [f.name, f]));
  return candidate.frontends.flatMap((f) => {
    if (!f.enabled) return [];
    const old = listening(before.get(f.name));
    return f.binds
      .filter((b) => !old.has(`${b.address}:${b.port}`))
      .map((b) => ({ frontend: f.name, address: b.address, port: b.port }));
  });
}

/** Listening binds that go away, get disabled or move; their sessions are kept until they end. */
function listenersClosed(
  current: Snapshot,
  candidate: Snapshot,
  index: SessionIndex,
): ImpactReport['listenersClosed'] {
  const after = new Map(candidate.frontends.map((f) => [f.name, f]));
  return current.frontends.flatMap((f) => {
    if (!f.enabled) return [];
    const next = listening(after.get(f.name));
    return f.binds
      .filter((b) => !next.has(`${b.address}:${b.port}`))
      .map((b) => ({
        frontend: f.name,
        address: b.address,
        port: b.port,
        // Sessions are counted per frontend: a frontend's sessions are not told apart by bind.
        sessions: index.perFrontend.get(f.name) ?? 0,
      }));
  });
}

/** Servers no longer in the config (their whole backend removed included). */
function serversRemoved(
  current: Snapshot,
  candidate: Snapshot,
  index: SessionIndex,
): ImpactReport['serversRemoved'] {
  const after = new Map(candidate.backends.map((b) => [b.name, new Set(b.servers.map((s) => s.name))]));
  const removed: ImpactReport['serversRemoved'] = [];
  for (const backend of current.backends) {
    const kept = after.get(backend.name);
    for (const server of backend.servers) {
      if (kept?.has(server.name)) continue;
      const count = index.perServer.get(serverKey(backend.name, server.name)) ?? 0;
      removed.push({ backend: backend.name, server: server.name, sessions: count });
    }
  }
  return removed;
}

/**
 * For backends hashed in both configs: the distinct clients among the backend's sessions, and how many
 * the candidate would send to another server than the current config does. A client is its address, or, when
 * either config balances by cmpp-account, its SP account if its session read one (whatever its address). Both sides
 * are elected over every active server with weight > 0, so health and admin state (runtime facts, not
 * config) don't blur what the config change itself does.
 */
function rehashed(current: Snapshot, candidate: Snapshot, index: SessionIndex): ImpactReport['rehashed'] {
  const after = new Map(candidate.backends.map((b) => [b.name, b]));
  const result: ImpactReport['rehashed'] = [];
  for (const before of current.backends) {
    const next = after.get(before.name);
    if (!next || !isHashed(before.balance) || !isHashed(next.balance)) continue;
    if (sameHashInputs(before, next)) continue; // nobody can move: not worth a line in the review
    const byAccount = before.balance === 'cmpp-account' || next.balance === 'cmpp-account';
    const clients = clientContexts(index, before.name, byAccount);
    const electBefore = elector(before);
    const electAfter = elector(next);
    let moved = 0;
    for (const client of clients) if (electBefore(client) !== electAfter(client)) moved++;
    result.push({
      backend: before.name,
      clients: clients.length,
      moved,
      share: clients.length ? moved / clients.length : 0,
    });
  }
  return result;
}

/** One balance context per distinct client of a backend: by address, or each account once and then the
 *  addresses of the sessions that named none. */
function clientContexts(index: SessionIndex, backend: string, byAccount: boolean): BalanceContext[] {
  const contexts: BalanceContext[] = [];
  if (!byAccount) {
    for (const clientAddress of index.clientsPerBackend.get(backend) ?? []) contexts.push({ clientAddress });
    return contexts;
  }
  for (const [account, clientAddress] of index.accountsPerBackend.get(backend) ?? [])
    contexts.push({ clientAddress, account });
  for (const clientAddress of index.anonymousPerBackend.get(backend) ?? []) contexts.push({ clientAddress });
  return contexts;
}

/** What a hashed choice depends on: the algorithm and the active servers' names, weights and order. */
function sameHashInputs(a: Backend, b: Backend): boolean {
  const inputs = (backend: Backend) =>
    JSON.stringify([
      backend.balance,
      backend.hashType,
      backend.servers.map((s) => [s.name, s.weight, s.backup]),
    ]);
  return inputs(a) === inputs(b);
}

/** Name of the server a fresh connection of that client would get (undefined: none usable). */
function elector(backend: Backend): (client: BalanceContext) => string | undefined {
  // Same construction as the runtime: index is the position in the backend's whole server list.
  const active = backend.servers
    .map((s, index) => ({ name: s.name, weight: s.weight, index, backup: s.backup }))
    .filter((s) => !s.backup)
    .map(({ name, weight, index }) => ({ name, weight, index }));
  const balancer = createBalancer(backend.balance, { hashType: backend.hashType, servers: active });
  const candidates: BalancedServer[] = active.filter((s) => s.weight > 0).map((s) => ({ ...s, sessions: 0 }));
  return (client) => balancer.elect(candidates, client)?.name;
}
