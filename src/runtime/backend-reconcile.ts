// Reconciles backends and servers to a snapshot by name (gobetween): servers still present keep their
// counters, health and checker; new ones are added; gone ones retire and leave once their sessions end.
import type { Snapshot } from '../schema/snapshot.js';
import { BackendRuntime, ServerRuntime } from './backend.js';
import { backendInService, reconcileChecker, stopChecker } from './server-health.js';
import type { RuntimeState } from './state.js';

export function reconcileBackends(state: RuntimeState, next: Snapshot, now: number): void {
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
          // Back in the snapshot: its old admin state was dropped when it left.
          state.retiredServers.delete(key);
          server.retired = false;
          server.adminState = 'ready';
        } else {
          server = new ServerRuntime(config.name, s, index);
        }
      }
      server.update(s, index);
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

function retireServer(state: RuntimeState, server: ServerRuntime): void {
  stopChecker(server);
  server.retired = true;
  server.adminState = 'ready';
  if (server.sessions.size > 0) state.retiredServers.set(server.key, server);
}
