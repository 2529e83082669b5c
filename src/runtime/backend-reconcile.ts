// Reconciles backends and servers to a snapshot by name (gobetween): servers still present keep their
// counters, health and checker; new ones are added; gone ones retire and leave once their sessions end.
import type { Snapshot } from '../schema/snapshot.js';
import { BackendRuntime, ServerRuntime } from './backend.js';
import { addressOf } from './resolver.js';
import { backendInService, reconcileChecker, stopChecker } from './server-health.js';
import type { RuntimeState } from './state.js';
import type { AdminState, AdminStateEntry } from './types.js';

/** `backend/server` → state, from ApplyOptions.adminStates (undefined: keep what servers have). */
export type AdminStates = Map<string, AdminState> | undefined;

export function adminStateMap(entries: AdminStateEntry[] | undefined): AdminStates {
  if (entries === undefined) return undefined;
  return new Map(entries.map((e) => [`${e.backend}/${e.server}`, e.state]));
}

export function reconcileBackends(
  state: RuntimeState,
  next: Snapshot,
  now: number,
  adminStates?: AdminStates,
): void {
  const seen = new Set<string>();
  for (const config of next.backends) {
    let backend = state.backends.get(config.name);
    if (!backend) {
      backend = new BackendRuntime(config);
      state.backends.set(config.name, backend);
    }
    backend.config = config;
    const servers: ServerRuntime[] = [];
    const names = new Set<string>();
    config.servers.forEach((s, index) => {
      const key = `${config.name}/${s.name}`;
      let server = backend.byName.get(s.name);
      if (!server) {
        server = state.retiredServers.get(key);
        if (server) {
          // Back in the snapshot, with the admin state the caller gives (ready if it gives none).
          state.retiredServers.delete(key);
          server.retired = false;
        } else {
          server = new ServerRuntime(config.name, s, index);
        }
        server.adminState = adminStates?.get(key) ?? 'ready';
      } else if (adminStates !== undefined) {
        setAdminState(state, server, adminStates.get(key) ?? 'ready', now);
      }
      server.update(s, index);
      const resolution = addressOf(state, s.address);
      server.ip = resolution.ip;
      server.dnsError = resolution.dnsError;
      servers.push(server);
      names.add(s.name);
      reconcileChecker(state, backend, server, next);
    });
    for (const [name, server] of backend.byName) {
      if (!names.has(name)) retireServer(state, server);
    }
    backend.servers = servers;
    backend.byName.clear();
    for (const server of servers) backend.byName.set(server.config.name, server);
    backend.refreshBalancers();
    backend.setUp(backendInService(backend), now);
    seen.add(config.name);
  }
  for (const [name, backend] of state.backends) {
    if (seen.has(name)) continue;
    for (const server of backend.servers) retireServer(state, server);
    state.backends.delete(name);
  }
}

/** A kept server whose state the apply changes: the same event an operator's change makes. */
function setAdminState(state: RuntimeState, server: ServerRuntime, to: AdminState, now: number): void {
  const from = server.adminState;
  if (from === to) return;
  server.adminState = to;
  if (to === 'maint') server.checker?.pause();
  else if (from === 'maint') server.checker?.resume();
  state.emit({
    type: 'admin-state',
    backend: server.backendName,
    server: server.config.name,
    from,
    to,
    at: now,
  });
}

function retireServer(state: RuntimeState, server: ServerRuntime): void {
  stopChecker(server);
  server.retired = true;
  server.adminState = 'ready';
  if (server.sessions.size > 0) state.retiredServers.set(server.key, server);
}
