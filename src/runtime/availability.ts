// Which servers may take a new connection. Decided here, once, for every algorithm:
// never DOWN, drain, maint, weight 0 or at maxconn; backups only when no active server is usable.
import type { BackendRuntime, Candidate, ServerRuntime } from './backend.js';
import type { BalanceContext } from './balancers/balancer.js';

/** Usable ignoring maxconn: what decides whether a backend is UP. */
export function isInService(server: ServerRuntime): boolean {
  return server.health === 'UP' && server.adminState === 'ready' && server.config.weight > 0;
}

export function isUsable(server: ServerRuntime): boolean {
  if (!isInService(server)) return false;
  const maxconn = server.config.maxconn;
  return maxconn === undefined || server.sessions.size < maxconn;
}

/** The usable servers of the first tier that has any: active, else backup. */
export function candidates(
  backend: BackendRuntime,
  exclude?: ServerRuntime,
): { list: Candidate[]; backup: boolean } {
  const active: Candidate[] = [];
  const backup: Candidate[] = [];
  for (const server of backend.servers) {
    if (server === exclude || !isUsable(server)) continue;
    server.candidate.sessions = server.sessions.size + server.remoteSessions;
    (server.config.backup ? backup : active).push(server.candidate);
  }
  return active.length > 0 ? { list: active, backup: false } : { list: backup, backup: true };
}

export function electServer(
  backend: BackendRuntime,
  context: BalanceContext,
  exclude?: ServerRuntime,
): ServerRuntime | undefined {
  const { list, backup } = candidates(backend, exclude);
  if (list.length === 0) return undefined;
  const chosen = (backup ? backend.backup : backend.active).elect(list, context) as Candidate | undefined;
  return chosen?.server;
}

export function countUsable(backend: BackendRuntime): { act: number; bck: number } {
  let act = 0;
  let bck = 0;
  for (const server of backend.servers) {
    if (!isInService(server)) continue;
    if (server.config.backup) bck++;
    else act++;
  }
  return { act, bck };
}
