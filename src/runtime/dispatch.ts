// Which server a session goes to: the first election, the retries after a failed connect (the backend's
// `retries`, on another server when `redispatch` allows it), and the per-server session bookkeeping.
import { DEFAULT_REDISPATCH, DEFAULT_RETRIES, isHashed } from '../schema/snapshot.js';
import { electServer, isUsable } from './availability.js';
import type { ServerRuntime } from './backend.js';
import type { ConnectFailure, Session } from './session.js';
import type { RuntimeState } from './state.js';

/** Elects a server for a session; undefined (counted as no server) when none is usable. */
export function electFirst(session: Session, account: string | undefined): ServerRuntime | undefined {
  const server = electServer(session.backend, { clientAddress: session.clientAddress, account });
  if (server === undefined) {
    session.frontend.counters.noServer++;
    session.backend.counters.noServer++;
    return undefined;
  }
  assign(session, server, Date.now());
  return server;
}

export function connectFailed(
  state: RuntimeState,
  session: Session,
  server: ServerRuntime,
  code: ConnectFailure,
  durationMs: number,
): ServerRuntime | undefined {
  server.counters.econ++;
  unassign(state, session, server);
  const timedOut = code === 'ETIMEDOUT';
  logConnectFailure(state, server, code, session.id);
  server.checker?.reportPassiveFailure({
    ok: false,
    status: timedOut ? 'L4TOUT' : 'L4CON',
    durationMs,
    description: timedOut ? 'Connection timeout' : `Connection error: ${code}`,
  });
  const config = session.backend.config;
  // `attempts` connects were made, so `attempts - 1` retries: one more while that is under `retries`.
  const retries = config.retries ?? DEFAULT_RETRIES;
  if (session.attempts > retries) return undefined;
  const next = retryServer(
    session,
    server,
    session.attempts === retries,
    config.redispatch ?? DEFAULT_REDISPATCH,
  );
  if (next === undefined) return undefined;
  // As HAProxy 2.6 counts them (docs/haproxy-import.md, "Retries"): a retry on the same server is a retry,
  // one on another server a redispatch, counted on the server that failed.
  if (next === server) server.counters.wretr++;
  else {
    server.counters.wredis++;
    session.redispatched = true;
  }
  assign(session, next, Date.now());
  return next;
}

/**
 * The server of the next attempt, as HAProxy 2.6 picks it. Without redispatch: the same one, always (unless it left
 * the config). With it: another usable server on the last retry, when the failed one is no longer usable (DOWN,
 * drain, maint, full), or at once when the balance is not a hash (nothing ties the client to that server); else the
 * same one. No other usable server: the same one if still usable, else none.
 */
function retryServer(
  session: Session,
  server: ServerRuntime,
  lastRetry: boolean,
  redispatch: boolean,
): ServerRuntime | undefined {
  if (!redispatch) return server.retired ? undefined : server;
  const usable = isUsable(server);
  if (usable && !lastRetry && isHashed(session.backend.config.balance)) return server;
  return (
    electServer(
      session.backend,
      { clientAddress: session.clientAddress, account: session.account },
      server,
    ) ?? (usable ? server : undefined)
  );
}

/** A failed connect is logged at most once a second per server: a dead server under a reconnect storm
 *  fails every client's first try, and a line each (sent over IPC in a worker) costs the storm time. */
const CONNECT_FAILURE_LOG_MS = 1000;
const connectFailureLog = new WeakMap<ServerRuntime, { at: number; unlogged: number }>();

function logConnectFailure(state: RuntimeState, server: ServerRuntime, code: string, session: string): void {
  const now = Date.now();
  const last = connectFailureLog.get(server);
  if (last !== undefined && now - last.at < CONNECT_FAILURE_LOG_MS) {
    last.unlogged++;
    return;
  }
  const more = last?.unlogged ?? 0;
  state.log(
    'warn',
    `connect to ${server.key} failed: ${code}${more > 0 ? ` (and ${more} more since the last line)` : ''}`,
    {
      session,
    },
  );
  connectFailureLog.set(server, { at: now, unlogged: 0 });
}

export function assign(session: Session, server: ServerRuntime, now: number): void {
  server.sessions.add(session);
  server.counters.open(now);
  server.counters.lbtot++;
}

/** Takes a session off its server; a retired server leaves for good with its last session. */
export function unassign(state: RuntimeState, session: Session, server: ServerRuntime): void {
  if (server.sessions.delete(session)) {
    server.counters.scur--;
    if (server.retired && server.sessions.size === 0) state.retiredServers.delete(server.key);
  }
}
