// Connections from accept to close: the allow-list, maxconn (frontend and global: a listener at its
// limit pauses accepting and holds what it already accepted), the first election, the PROXY header,
// the counters a closed session leaves behind, and the idle sweep.
import type { Socket } from 'node:net';
import { electServer } from './availability.js';
import type { ServerRuntime } from './backend.js';
import { unwrapMappedIPv4 } from './cidr.js';
import { CmppInspection, frontendCounters } from './cmpp-inspect.js';
import { assign, unassign } from './dispatch.js';
import type { FrontendRuntime } from './frontend.js';
import type { Listener } from './listener.js';
import { encodeProxyV1, encodeProxyV2 } from './proxy-protocol.js';
import { Session } from './session.js';
import type { RuntimeState } from './state.js';
import type { SessionEndRecord } from './types.js';

/** How long a cmpp-account backend waits for the CMPP_CONNECT before hashing the client IP instead. */
const ACCOUNT_WAIT_MS = 2000;

export function accept(state: RuntimeState, listener: Listener, socket: Socket): void {
  const frontend = listener.frontend;
  if (state.closed || listener.closed) {
    socket.destroy();
    return;
  }
  const clientAddress = unwrapMappedIPv4(socket.remoteAddress ?? '');
  if (frontend.allow !== null && !frontend.allow.allows(clientAddress)) {
    frontend.counters.denied++;
    socket.destroy();
    return;
  }
  if (overLimit(state, frontend)) {
    if (listener.held.length >= state.maxHeldPerListener) {
      // The hold list is bounded like the kernel's backlog: past it, a client is refused, not queued.
      frontend.counters.drops++;
      socket.destroy();
      return;
    }
    // Accepted in the same burst as the one that reached the limit: hold it unread until a slot frees.
    socket.on('error', ignore);
    socket.pause();
    listener.held.push(socket);
    updateAcceptPauses(state);
    return;
  }
  startSession(state, frontend, socket, clientAddress);
  if (overLimit(state, frontend)) updateAcceptPauses(state);
}

function startSession(
  state: RuntimeState,
  frontend: FrontendRuntime,
  socket: Socket,
  clientAddress: string,
): void {
  const now = Date.now();
  const backend = state.backends.get(frontend.config.backend)!;
  const session = new Session(
    String(++state.nextSessionId),
    state.host,
    frontend,
    backend,
    socket,
    clientAddress,
    now,
  );
  state.sessionMap.set(session.id, session);
  frontend.counters.open(now);
  backend.counters.open(now);
  const byAccount = backend.config.balance === 'cmpp-account';
  if (byAccount || frontend.config.inspect === 'cmpp') {
    const counters = frontend.config.inspect === 'cmpp' ? frontendCounters(frontend) : null;
    session.inspection = new CmppInspection(session, counters, state.cmppAccounts, byAccount);
  }
  if (byAccount) {
    session.awaitAccount(Math.min(ACCOUNT_WAIT_MS, state.snapshot.defaults.timeouts.connect));
    return;
  }
  const server = electServer(backend, { clientAddress });
  if (server === undefined) {
    noServer(session);
    return;
  }
  assign(session, server, now);
  session.connect(server);
}

function noServer(session: Session): void {
  session.frontend.counters.noServer++;
  session.backend.counters.noServer++;
  session.destroy('no server', 'S');
}

export function proxyHeader(session: Session): Buffer | undefined {
  const mode = session.backend.config.sendProxy;
  if (mode === 'none') return undefined;
  const src = { address: session.clientAddress, port: session.clientPort };
  const dst = {
    address: unwrapMappedIPv4(session.client.localAddress ?? ''),
    port: session.client.localPort ?? 0,
  };
  return mode === 'v2' ? encodeProxyV2(src, dst) : encodeProxyV1(src, dst);
}

export function sessionClosed(state: RuntimeState, session: Session): void {
  if (!state.sessionMap.delete(session.id)) return;
  // CMPP counts the session kept for itself go into its frontend's, server's and account's counters.
  session.inspection?.fold();
  const { frontend, backend, server } = session;
  // Built before the counts drop (HAProxy's process and frontend counts include the session being logged).
  if (state.sessionEndListeners.size > 0) state.emitSessionEnd(sessionEndRecord(state, session, Date.now()));
  frontend.counters.scur--;
  frontend.counters.bin += session.bytesIn;
  frontend.counters.bout += session.bytesOut;
  backend.counters.scur--;
  backend.counters.bin += session.bytesIn;
  backend.counters.bout += session.bytesOut;
  if (server !== null && server.sessions.has(session)) {
    server.counters.bin += session.bytesIn;
    server.counters.bout += session.bytesOut;
    unassign(state, session, server);
  }
  if (anyPaused(state)) updateAcceptPauses(state);
}

/** The session log's record (docs/session-logs.md), from what the session kept. */
export function sessionEndRecord(state: RuntimeState, session: Session, now: number): SessionEndRecord {
  const connected = session.connectedAt !== 0;
  const server = session.server;
  return {
    id: session.id,
    clientAddress: session.clientAddress,
    clientPort: session.clientPort,
    acceptedAt: session.startedAt,
    frontend: session.frontend.name,
    backend: session.backend.name,
    server: server?.config.name ?? null,
    tw: session.attempts > 0 ? 0 : -1,
    tc: connected ? session.connectedAt - session.startedAt : -1,
    tt: now - session.startedAt,
    bytesRead: session.bytesOut,
    bytesUploaded: session.bytesIn,
    // Second letter: the phase it ended in, connecting ('C') or relaying data ('D').
    termination: session.cause === '' ? '--' : session.cause + (connected ? 'D' : 'C'),
    reason: session.closeReason,
    // As HAProxy 2.6 logs them: process and frontend counts still include this session, the backend and
    // server ones no longer do (it has left them when the line is written).
    actconn: state.sessionMap.size + 1,
    feconn: session.frontend.counters.scur,
    beconn: session.backend.counters.scur - 1,
    srvConn: server === null ? 0 : server.counters.scur - (server.sessions.has(session) ? 1 : 0),
    retries: Math.max(0, session.attempts - 1),
    redispatched: session.redispatched,
    srvQueue: 0,
    backendQueue: 0,
  };
}

/** Closes a server's sessions (maint with shutdown, marked down, explicit shutdown); returns how many. */
export function closeServerSessions(state: RuntimeState, server: ServerRuntime, reason: string): number {
  let count = 0;
  // HAProxy's 'D': killed because the server went down; 'K': killed by an operator.
  const cause = reason === 'marked down' ? 'D' : 'K';
  for (const session of [...server.sessions]) if (session.destroy(reason, cause)) count++;
  if (count > 0) {
    state.log('info', `closed ${count} sessions of ${server.key}: ${reason}`);
    state.emit({
      type: 'sessions-closed',
      backend: server.backendName,
      server: server.config.name,
      count,
      reason,
      at: Date.now(),
    });
  }
  return count;
}

function frontendLimit(state: RuntimeState, frontend: FrontendRuntime): number {
  return frontend.config.maxconn ?? state.snapshot.defaults.maxconn;
}

function overLimit(state: RuntimeState, frontend: FrontendRuntime): boolean {
  return (
    frontend.counters.scur >= frontendLimit(state, frontend) ||
    state.sessionMap.size >= state.snapshot.defaults.maxconn
  );
}

export function anyPaused(state: RuntimeState): boolean {
  if (state.globallyPaused) return true;
  for (const listener of state.listeners) if (listener.paused || listener.held.length > 0) return true;
  return false;
}

/** Pauses listeners at their limit and resumes the others, starting held connections first. */
export function updateAcceptPauses(state: RuntimeState): void {
  state.globallyPaused = state.sessionMap.size >= state.snapshot.defaults.maxconn;
  for (const listener of state.listeners) {
    const frontend = listener.frontend;
    while (listener.held.length > 0 && !overLimit(state, frontend)) {
      const socket = listener.held.shift()!;
      if (socket.destroyed) continue;
      socket.off('error', ignore);
      startSession(state, frontend, socket, unwrapMappedIPv4(socket.remoteAddress ?? ''));
      socket.resume();
    }
    if (overLimit(state, frontend)) listener.pause();
    else listener.resume();
  }
}

/** Closes sessions that moved no byte for the shorter of the client and server timeouts. */
export function sweep(state: RuntimeState): void {
  const now = Date.now();
  const t = state.snapshot.defaults.timeouts;
  const idle = Math.min(t.client, t.server);
  // The shorter of the two timeouts fires: HAProxy's 'c' (client timeout) or 's' (server timeout).
  const idleCause = t.client <= t.server ? 'c' : 's';
  for (const session of state.sessionMap.values()) {
    const total = session.bytesIn + session.bytesOut;
    if (total !== session.seenBytes) {
      session.seenBytes = total;
      session.lastActiveAt = now;
    } else if (session.state !== 'connecting' && now - session.lastActiveAt >= idle) {
      session.destroy('idle timeout', idleCause);
    }
  }
}

function ignore(): void {}
