// The operator's actions on servers: ready / drain / maint, and shutting sessions down.
import type { BackendRuntime, ServerRuntime } from './backend.js';
import { anyPaused, closeServerSessions, endSession, updateAcceptPauses } from './connections.js';
import { RuntimeError } from './errors.js';
import { backendInService } from './server-health.js';
import type { RuntimeState } from './state.js';
import type { AdminState, ServerStateResult, ShutdownOptions } from './types.js';

export function setServerState(
  state: RuntimeState,
  backendName: string,
  serverName: string,
  adminState: AdminState,
  options: { shutdownSessions?: boolean },
): ServerStateResult {
  if (adminState !== 'ready' && adminState !== 'drain' && adminState !== 'maint') {
    throw new RuntimeError('INVALID_SNAPSHOT', `unknown admin state "${String(adminState)}"`, {
      field: 'state',
    });
  }
  const { backend, server } = findServer(state, backendName, serverName);
  const previous = server.adminState;
  const now = Date.now();
  server.adminState = adminState;
  // HAProxy 2.6 counts maintenance as a DOWN transition of a server that was not already DOWN (docs/events.md).
  if (adminState === 'maint' && previous !== 'maint' && server.health === 'UP') server.chkdownBase++;
  if (adminState === 'maint') server.checker?.pause();
  else server.checker?.resume();
  if (previous !== adminState) {
    state.log('info', `server ${server.key} ${previous} -> ${adminState}`);
    state.emit({
      type: 'admin-state',
      backend: backendName,
      server: serverName,
      from: previous,
      to: adminState,
      at: now,
    });
  }
  backend.setUp(backendInService(backend), now);
  let sessionsClosed = 0;
  if (adminState === 'maint' && options.shutdownSessions)
    sessionsClosed = closeServerSessions(state, server, 'maint');
  if (anyPaused(state)) updateAcceptPauses(state);
  return { backend: backendName, server: serverName, previous, state: adminState, sessionsClosed };
}

/**
 * Closes the sessions of one server (retired ones included), or of every server of the backend; `graceful`: the
 * lossless close for inspected sessions (cmpp-close.ts). Returns how many it started closing.
 */
export function shutdownSessions(
  state: RuntimeState,
  backendName: string,
  serverName?: string,
  options: ShutdownOptions = {},
): number {
  const graceful = options.graceful === true;
  const backend = state.backends.get(backendName);
  if (serverName === undefined) {
    if (!backend)
      throw new RuntimeError('UNKNOWN_BACKEND', `no backend "${backendName}"`, { backend: backendName });
    let count = 0;
    for (const session of [...state.sessionMap.values()]) {
      if (session.backend === backend && endSession(session, 'shutdown', 'K', graceful)) count++;
    }
    if (count > 0) {
      state.emit({
        type: 'sessions-closed',
        backend: backendName,
        server: '*',
        count,
        reason: graceful ? 'shutdown, graceful' : 'shutdown',
        at: Date.now(),
      });
    }
    return count;
  }
  const retired = state.retiredServers.get(`${backendName}/${serverName}`);
  const server = retired ?? findServer(state, backendName, serverName).server;
  return closeServerSessions(state, server, 'shutdown', graceful);
}

function findServer(
  state: RuntimeState,
  backendName: string,
  serverName: string,
): { backend: BackendRuntime; server: ServerRuntime } {
  const backend = state.backends.get(backendName);
  if (!backend)
    throw new RuntimeError('UNKNOWN_BACKEND', `no backend "${backendName}"`, { backend: backendName });
  const server = backend.byName.get(serverName);
  if (!server) {
    throw new RuntimeError('UNKNOWN_SERVER', `no server "${serverName}" in backend "${backendName}"`, {
      backend: backendName,
      server: serverName,
    });
  }
  return { backend, server };
}
