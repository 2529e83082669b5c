// Connections from accept to close: the allow-list, maxconn (frontend and global: a listener at its
// limit pauses accepting and holds what it already accepted), the first election, the PROXY header,
// the counters a closed session leaves behind, and the idle sweep.
import type { Socket } from 'node:net';
import { electServer } from './availability.js';
import type { ServerRuntime } from './backend.js';
import { unwrapMappedIPv4 } from './cidr.js';
import { clientLegDied, countAmbiguous, startLosslessClose } from './cmpp-close.js';
import { CmppInspection, frontendCounters } from './cmpp-inspect.js';
import { assign, unassign } from './dispatch.js';
import type { FrontendRuntime } from './frontend.js';
import type { Listener } from './listener.js';
import { encodeProxyV1, encodeProxyV2 } from './proxy-protocol.js';
import { Session } from './session.js';
import type { RuntimeState } from './state.js';
import type { SessionEndRecord } from './types.js';
import { hasCmppLimits, type Timeouts } from '../schema/snapshot.js';
import { REFUSAL_LINGER_MS } from './login-gate.js';

/** How long a cmpp-account backend waits for the CMPP_CONNECT before hashing the client IP instead (a backend
 * with CMPP limits, login-gate.ts, closes the session instead). */
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
    // Accepted in the same burst as the one that reached the limit: hold it unread until a slot frees
    // (or, in a worker, until the main process moves share here from a worker that has room).
    socket.on('error', ignore);
    socket.pause();
    listener.held.push(socket);
    updateAcceptPauses(state);
    watchShares(state, frontend);
    return;
  }
  startSession(state, frontend, socket, clientAddress);
  if (overLimit(state, frontend)) updateAcceptPauses(state);
  if (state.shareLow !== null) watchShares(state, frontend);
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
  const inspected = frontend.config.inspect === 'cmpp';
  // CMPP limits (login-gate.ts): the CONNECT is admitted before a server is chosen, like the account wait.
  session.limited = inspected && hasCmppLimits(backend.config.cmpp);
  if (byAccount || inspected) {
    const counters = inspected ? frontendCounters(frontend) : null;
    session.inspection = new CmppInspection(
      session,
      counters,
      state.cmppAccounts,
      byAccount || session.limited,
    );
  }
  if (byAccount || session.limited) {
    session.awaitAccount(Math.min(ACCOUNT_WAIT_MS, state.host.connectTimeout(session)));
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
  if (session.inspection !== null) countAmbiguous(session);
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
  if (session.admittedAccount !== undefined) state.loginGate.release(backend.name, session.admittedAccount);
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

/**
 * Closes a server's sessions (maint with shutdown, marked down, explicit shutdown); returns how many it started
 * closing. `graceful`: inspected sessions end the CMPP way (cmpp-close.ts), the others are cut.
 */
export function closeServerSessions(
  state: RuntimeState,
  server: ServerRuntime,
  reason: string,
  graceful = false,
): number {
  let count = 0;
  // HAProxy's 'D': killed because the server went down; 'K': killed by an operator.
  const cause = reason === 'marked down' ? 'D' : 'K';
  for (const session of [...server.sessions]) if (endSession(session, reason, cause, graceful)) count++;
  if (count > 0) {
    state.log('info', `closed ${count} sessions of ${server.key}: ${reason}`);
    state.emit({
      type: 'sessions-closed',
      backend: server.backendName,
      server: server.config.name,
      count,
      reason: graceful ? `${reason}, graceful` : reason,
      at: Date.now(),
    });
  }
  return count;
}

/** Ends one session: the lossless close when asked for and possible, else cut. False when it was already ending. */
export function endSession(session: Session, reason: string, cause: string, graceful: boolean): boolean {
  if (graceful && startLosslessClose(session, `${reason}, graceful`, cause)) return true;
  return session.destroy(reason, cause);
}

function frontendLimit(state: RuntimeState, frontend: FrontendRuntime): number {
  return frontend.config.maxconn ?? state.snapshot.defaults.maxconn;
}

function overLimit(state: RuntimeState, frontend: FrontendRuntime): boolean {
  return (
    frontend.counters.scur >= frontendLimit(state, frontend) || state.sessionMap.size >= processLimit(state)
  );
}

/** The process's cap: defaults.maxconn (a worker's share of it), or fewer when descriptors run short. */
function processLimit(state: RuntimeState): number {
  return Math.min(state.snapshot.defaults.maxconn, state.sessionBudget);
}

export function anyPaused(state: RuntimeState): boolean {
  if (state.globallyPaused) return true;
  for (const listener of state.listeners) if (listener.paused || listener.held.length > 0) return true;
  return false;
}

/** Pauses listeners at their limit and resumes the others, starting held connections first. */
export function updateAcceptPauses(state: RuntimeState): void {
  const sessions = state.sessionMap.size;
  state.globallyPaused = sessions >= processLimit(state);
  const atBudget = sessions >= state.sessionBudget;
  if (atBudget && !state.atSessionBudget) state.host.sessionBudgetReached(sessions, state.sessionBudget);
  state.atSessionBudget = atBudget;
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

/**
 * Closes sessions that moved no byte for their idle limit: the backend's (else the defaults') tunnel timeout when
 * set, else the shorter of the frontend's client and the backend's server timeout (docs/config-model.md).
 */
export function sweep(state: RuntimeState): void {
  const now = Date.now();
  const t = state.snapshot.defaults.timeouts;
  for (const session of state.sessionMap.values()) {
    if (session.refusedAt !== 0) {
      // A refused login (login-gate.ts): Tether has answered and closed its side; the client has had its time.
      if (now - session.refusedAt >= REFUSAL_LINGER_MS) session.client.destroy();
      continue;
    }
    const total = session.bytesIn + session.bytesOut;
    if (total !== session.seenBytes) {
      session.seenBytes = total;
      session.lastActiveAt = now;
    } else if (session.state !== 'connecting' && now - session.lastActiveAt >= idleLimit(session, t)) {
      // An idle inspected client is a dead leg: the server gets a TERMINATE (cmpp-close.ts). A closing
      // session is bounded by its own timers.
      if (session.closing !== null) continue;
      const cause = idleCause(session, t);
      if (session.inspection === null || !clientLegDied(session, 'idle timeout', cause, true))
        session.destroy('idle timeout', cause);
    }
  }
}

/** An established session's idle limit (ms). Plain property reads: the sweep runs it for every session. */
function idleLimit(session: Session, t: Timeouts): number {
  const own = session.backend.config.timeouts;
  const tunnel = own?.tunnel ?? t.tunnel;
  if (tunnel !== undefined) return tunnel;
  const client = session.frontend.config.timeouts?.client ?? t.client;
  const server = own?.server ?? t.server;
  return client < server ? client : server;
}

/** HAProxy's first letter for an idle timeout: 'c' (client, and tunnel: HAProxy's client side sees it first) or 's'. */
function idleCause(session: Session, t: Timeouts): string {
  const own = session.backend.config.timeouts;
  if ((own?.tunnel ?? t.tunnel) !== undefined) return 'c';
  return (session.frontend.config.timeouts?.client ?? t.client) <= (own?.server ?? t.server) ? 'c' : 's';
}

// ---- limit shares (worker processes: docs/workers.md, "maxconn for the whole appliance") ---------------
// In a worker every limit is its share of the appliance's. The shares follow the load: a worker short of
// room says so (state.shareLow), and the main process moves share to it from the others (releaseShare
// here, then addShare there), so the shares always add up to the limit and no client waits in a worker
// at its share while another has room.

/** The appliance-wide limit's key; a frontend's own maxconn is keyed by the frontend's name. */
export const GLOBAL_SHARE = '*';

/** Asks for more share when less than this part of the share is left (and at least one slot). */
const SHARE_RESERVE = 1 / 16;

export interface ShareRoom {
  share: number;
  /** Sessions counted against it, and connections held waiting for it. */
  used: number;
  held: number;
}

/** How much of the share `key` is in use; undefined when there is no such limit here. */
export function shareRoom(state: RuntimeState, key: string): ShareRoom | undefined {
  if (key === GLOBAL_SHARE) {
    let held = 0;
    for (const listener of state.listeners) held += listener.held.length;
    return { share: state.snapshot.defaults.maxconn, used: state.sessionMap.size, held };
  }
  const frontend = state.frontends.get(key);
  if (frontend === undefined || frontend.retired || frontend.config.maxconn === undefined) return undefined;
  let held = 0;
  for (const listener of frontend.listeners) held += listener.held.length;
  return { share: frontend.config.maxconn, used: frontend.counters.scur, held };
}

/**
 * Gives share to a worker whose free room is `theirFree`: this worker's free room above theirs, divided by
 * `parts` (the number of workers), so that repeated moves even out the free room. Never more than is free
 * here (what is in use or held keeps its share); a share may reach 0 (then this worker accepts nothing until
 * it gets some back). Returns how much it gave.
 */
export function releaseShare(state: RuntimeState, key: string, theirFree: number, parts: number): number {
  const room = shareRoom(state, key);
  if (room === undefined) return 0;
  const free = freeOf(room);
  const given = Math.min(Math.floor((free - theirFree) / Math.max(1, parts)), free);
  if (given <= 0) return 0;
  setShare(state, key, room.share - given);
  // Given all its free room, it is at its share now: it stops accepting here.
  updateAcceptPauses(state);
  return given;
}

/** Sets this worker's shares (key -> share), as the main process's book has them, right after an apply. */
export function setShares(state: RuntimeState, shares: Record<string, number>): void {
  for (const [key, share] of Object.entries(shares)) {
    if (shareRoom(state, key) !== undefined && Number.isInteger(share) && share >= 0)
      setShare(state, key, share);
  }
  updateAcceptPauses(state);
}

/** Takes `count` more of the share: held connections start and a paused listener resumes at once. */
export function addShare(state: RuntimeState, key: string, count: number): void {
  const room = shareRoom(state, key);
  if (room === undefined || count <= 0) return;
  setShare(state, key, room.share + count);
  updateAcceptPauses(state);
}

function setShare(state: RuntimeState, key: string, share: number): void {
  // The worker's own copy of its snapshot: the next apply brings the main process's figures anyway.
  if (key === GLOBAL_SHARE) state.snapshot.defaults.maxconn = share;
  else state.frontends.get(key)!.config.maxconn = share;
}

/** Tells the main process (state.shareLow) when one of this frontend's limits is (nearly) used up. Per accept
 *  in a worker, so it allocates nothing: a few additions over the (few) listeners. */
function watchShares(state: RuntimeState, frontend: FrontendRuntime): void {
  if (state.shareLow === null) return;
  let held = 0;
  for (const listener of state.listeners) held += listener.held.length;
  const global = state.snapshot.defaults.maxconn;
  if (isLow(global, global - state.sessionMap.size - held)) {
    state.shareLow();
    return;
  }
  const own = frontend.config.maxconn;
  if (own === undefined) return;
  let ownHeld = 0;
  for (const listener of frontend.listeners) ownHeld += listener.held.length;
  if (isLow(own, own - frontend.counters.scur - ownHeld)) state.shareLow();
}

/** Every limit whose share here is (nearly) used up, with its free room (negative: more held than room). */
export function lowShares(state: RuntimeState): Record<string, number> {
  const low: Record<string, number> = {};
  const global = shareRoom(state, GLOBAL_SHARE)!;
  if (isLow(global.share, freeOf(global))) low[GLOBAL_SHARE] = freeOf(global);
  for (const frontend of state.frontends.values()) {
    const room = shareRoom(state, frontend.name);
    if (room !== undefined && isLow(room.share, freeOf(room))) low[frontend.name] = freeOf(room);
  }
  return low;
}

function freeOf(room: ShareRoom): number {
  return room.share - room.used - room.held;
}

function isLow(share: number, free: number): boolean {
  return free < Math.max(1, Math.ceil(share * SHARE_RESERVE));
}

function ignore(): void {}
