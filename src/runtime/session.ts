// One proxied connection: the relay between a client socket and a server socket.
//
// Hot path rules (docs/runtime-hot-path.md): the handlers below are shared module-level functions; each socket
// carries its session on a symbol property, so no closure is allocated per connection. One write()
// per read, pause() when a write reports a full buffer, resume() on the other side's 'drain'.
// Byte counts are plain adds on the session; the runtime folds them into counters when it needs them.
//
// Sockets read into one shared buffer (`onread`): libuv allocates nothing per read and no Readable
// machinery runs. A queued write keeps a reference to the buffer it was given, so every read is
// copied out (pooled below 4 KiB) before anything else sees it; the shared buffer never leaves here.
// Upstream sockets always read this way; accepted ones when the listener could give them `onread`
// (USER_READ), else through 'data'.
import net, { type OnReadOpts, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { BackendRuntime, ServerRuntime } from './backend.js';
import {
  type CmppClose,
  clientLegDied,
  closingDown,
  closingLegChanged,
  closingUp,
  serverLegDied,
} from './cmpp-close.js';
import { type CmppInspection, inspectionInfo } from './cmpp-inspect.js';
import type { FrontendRuntime } from './frontend.js';
import { USER_READ } from './listener.js';
import { writeToHandle } from './node-internals.js';
import { RawUpstream, type RawBindings, type RawUpstreamHost } from './raw-upstream.js';
import type { SessionInfo } from './types.js';

export const SESSION = Symbol('tether.session');
type RelaySocket = Socket & { [SESSION]?: Session; [USER_READ]?: boolean };
/** The server side: a net.Socket, or a raw handle when the runtime's write path is `handle`. */
type Upstream = RelaySocket | RawUpstream;

/** libuv's own read size. */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/** Client bytes held while the server connection is being made; past this the client is paused. */
export const PENDING_LIMIT = 256 * 1024;

export type ConnectFailure = 'ECONNREFUSED' | 'ETIMEDOUT' | string;

/** What a session needs from the runtime; kept narrow so the relay can be read on its own. */
export interface SessionHost {
  /** Relay writes go through the sockets' libuv handles (the self-tested write path), else socket.write(). */
  readonly directWrites: boolean;
  /** With directWrites: the server side on raw handles (null: net.Socket). */
  readonly rawUpstream: RawBindings | null;
  /** The connect timeout of the session's backend (its own, else the defaults'). */
  connectTimeout(session: Session): number;
  /** The account wait for cmpp-account backends; the first client bytes (or none) decide the server. */
  electFirst(session: Session, account: string | undefined): ServerRuntime | undefined;
  /** A connection attempt failed; returns the server to retry on, or undefined to give up. */
  connectFailed(
    session: Session,
    server: ServerRuntime,
    code: ConnectFailure,
    durationMs: number,
  ): ServerRuntime | undefined;
  proxyHeader(session: Session): Buffer | undefined;
  sessionClosed(session: Session): void;
  /** A backend with CMPP limits: the CONNECT named `account`; connect or refuse (login-gate.ts). */
  admitLogin(session: Session, account: string): void;
}

export class Session {
  upstream: Upstream | null = null;
  server: ServerRuntime | null = null;
  state: SessionInfo['state'] = 'connecting';
  readonly startedAt: number;
  bytesIn = 0;
  bytesOut = 0;
  /** Activity is detected by the sweep comparing byte totals, so the data path never reads a clock. */
  lastActiveAt: number;
  seenBytes = 0;
  pending: Buffer[] | null = [];
  pendingBytes = 0;
  attempts = 0;
  connectStartedAt = 0;
  /** When the server connection was established (0: never); Tc of the session log. */
  connectedAt = 0;
  /** A retry went to another server than the failed one. */
  redispatched = false;
  /**
   * Who or what ended the session, HAProxy's first letter of the state at disconnection (docs/session-logs.md):
   * '' normal, 'C'/'S' client/server abort, 'c'/'s' client/server timeout, 'K' killed, 'D' server marked down.
   * Set once, by the first side that ends abnormally.
   */
  cause = '';
  timer: NodeJS.Timeout | null = null;
  clientEnded = false;
  upstreamEnded = false;
  clientClosed = false;
  upstreamClosed = true;
  /** Waiting for the first client frame to read a CMPP account before choosing a server. */
  awaitingAccount = false;
  /** CMPP frames are being read (inspect: cmpp, or the account for cmpp-account): cmpp-inspect.ts. */
  inspection: CmppInspection | null = null;
  /** Being closed the CMPP way, or one of its legs died (cmpp-close.ts): its chunks go there, not to the relay. */
  closing: CmppClose | null = null;
  /** The SP account (Source_Addr) of the client's CONNECT, once read. */
  account: string | undefined = undefined;
  /** Its backend has CMPP limits and its frontend inspects: the CONNECT is admitted before any server is chosen. */
  limited = false;
  /** The account whose slot this session holds (admitted by the login gate), released when it ends. */
  admittedAccount: string | undefined = undefined;
  /** When Tether refused the login itself (0: it didn't); the idle sweep cuts a client that lingers past REFUSAL_LINGER_MS. */
  refusedAt = 0;
  closeReason = '';
  /** Writes through the libuv handle (host.directWrites when the session started). */
  readonly direct: boolean;
  readonly clientAddress: string;
  readonly clientPort: number;

  constructor(
    readonly id: string,
    readonly host: SessionHost,
    readonly frontend: FrontendRuntime,
    readonly backend: BackendRuntime,
    readonly client: RelaySocket,
    clientAddress: string,
    now: number,
  ) {
    this.clientAddress = clientAddress;
    this.clientPort = client.remotePort ?? 0;
    this.direct = host.directWrites;
    this.startedAt = now;
    this.lastActiveAt = now;
    client[SESSION] = this;
    if (client[USER_READ] !== true) client.on('data', onClientData);
    client.on('end', onClientEnd);
    client.on('error', onSocketError);
    client.on('close', onClientClose);
  }

  /** cmpp-account: decide when the first frame has passed (or when the wait runs out). */
  awaitAccount(waitMs: number): void {
    this.awaitingAccount = true;
    this.timer = setTimeout(onAccountWaitOver, waitMs, this);
    this.timer.unref();
  }

  connect(server: ServerRuntime): void {
    this.server = server;
    this.attempts++;
    this.connectStartedAt = Date.now();
    this.upstreamClosed = false;
    const raw = this.host.rawUpstream;
    if (raw !== null) {
      const upstream = new RawUpstream(raw, RAW_HOST, this, readBuffer);
      this.upstream = upstream;
      const err = upstream.connect(server.ip, server.config.port, server.ip.includes(':'));
      if (err !== 0) {
        // Never started (EINVAL and the like): as a refused connect, after this call returns.
        setImmediate(rawConnectNeverStarted, this, upstream, err);
      }
    } else {
      this.connectSocket(server);
    }
    this.timer = setTimeout(onConnectTimeout, this.host.connectTimeout(this), this);
    this.timer.unref();
  }

  private connectSocket(server: ServerRuntime): void {
    const upstream = net.connect({
      host: server.ip,
      port: server.config.port,
      noDelay: true,
      keepAlive: true,
      allowHalfOpen: true,
      onread: UPSTREAM_ONREAD,
    }) as RelaySocket;
    upstream[SESSION] = this;
    this.upstream = upstream;
    upstream.on('connect', onUpstreamConnect);
    upstream.on('end', onUpstreamEnd);
    upstream.on('error', onUpstreamError);
    upstream.on('close', onUpstreamClose);
  }

  /** Cuts both sides now; `cause` is the session log's first letter. Returns false when already closing. */
  destroy(reason: string, cause: string): boolean {
    if (this.closeReason !== '') return false;
    this.closeReason = reason;
    if (this.cause === '') this.cause = cause;
    this.state = 'closing';
    this.clearTimer();
    this.client.destroy();
    this.upstream?.destroy();
    return true;
  }

  /** The lossless close's writes to the server: as the relay's, reading the client paused while the server's buffer is full. */
  forwardUp(chunk: Buffer): void {
    const upstream = this.upstream;
    if (upstream === null || upstream.destroyed || upstream.writableEnded) return;
    // A write that failed destroyed the server side: nothing to wait for.
    if (!relayWrite(this, upstream, chunk) && !upstream.destroyed)
      pauseUntilDrain(this.client, upstream, onUpstreamDrain);
  }

  /** The lossless close's writes to the client; false: the client's buffer is full (its 'drain' resumes the server). */
  forwardDown(chunk: Buffer): boolean {
    const client = this.client;
    if (client.destroyed || client.writableEnded) return true;
    // A write that failed destroyed the client (it was gone): keep reading the server, its TERMINATE_RESP matters.
    if (relayWrite(this, client, chunk) || client.destroyed) return true;
    hookDrain(client, onClientDrain);
    return false;
  }

  /** Both legs half-closed after what was written to them. */
  endLegs(): void {
    endOnce(this.client);
    if (this.upstream !== null) endOnce(this.upstream);
  }

  clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  info(): SessionInfo {
    return {
      id: this.id,
      frontend: this.frontend.name,
      backend: this.backend.name,
      server: this.state === 'connecting' ? null : (this.server?.config.name ?? null),
      clientAddress: this.clientAddress,
      clientPort: this.clientPort,
      startedAt: this.startedAt,
      lastActiveAt: this.lastActiveAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      state: this.state,
      readPath: this.client[USER_READ] === true ? 'onread' : 'stream',
      ...(this.account !== undefined ? { account: this.account } : {}),
      ...inspectionInfo(this.inspection),
    };
  }

  /** cmpp-account: the client's first frame named the account (or there is none); elect and connect. */
  electAfterAccount(account: string | undefined): void {
    if (!this.awaitingAccount) return;
    this.awaitingAccount = false;
    this.clearTimer();
    if (this.limited) {
      // Limits count logins: a session that doesn't start with one would pass uncounted.
      if (account === undefined) this.destroy('no CMPP login first', 'P');
      else this.host.admitLogin(this, account);
      return;
    }
    this.electAndConnect(account);
  }

  /** Elects a server (by `account` for cmpp-account) and connects, or ends the session when there is none. */
  electAndConnect(account: string | undefined): void {
    const server = this.host.electFirst(this, account);
    if (server === undefined) this.destroy('no server', 'S');
    else this.connect(server);
  }

  /**
   * Tether answers the client's CONNECT itself (a refused login, login-gate.ts) and closes: `frame` goes out,
   * then FIN; the client has REFUSAL_LINGER_MS (up to one sweep more) to close before the socket is cut, by the
   * idle sweep (connections.ts), not a timer per refusal. No server was ever connected.
   */
  refuseLogin(frame: Buffer, reason: string): void {
    if (this.closeReason !== '' || this.clientClosed) return;
    this.closeReason = reason;
    if (this.cause === '') this.cause = 'P';
    this.state = 'closing';
    this.clearTimer();
    this.pending = null;
    this.refusedAt = Date.now();
    this.client.end(frame);
  }

  /** Attempt failed: forget that socket and try the next server, or give up. */
  failAttempt(code: ConnectFailure): void {
    const server = this.server!;
    const upstream = this.upstream!;
    this.clearTimer();
    if (upstream instanceof RawUpstream) upstream.owner = null;
    else upstream[SESSION] = undefined;
    upstream.destroy();
    this.upstream = null;
    this.upstreamClosed = true;
    const next = this.host.connectFailed(this, server, code, Date.now() - this.connectStartedAt);
    if (next !== undefined && !this.clientClosed) {
      this.connect(next);
    } else {
      this.server = null;
      this.destroy(`connect failed: ${code}`, code === 'ETIMEDOUT' ? 's' : 'S');
      this.maybeFinished();
    }
  }

  maybeFinished(): void {
    if (this.clientClosed && this.upstreamClosed) {
      this.clearTimer();
      this.state = 'closing';
      this.host.sessionClosed(this);
    }
  }
}

function onClientData(this: RelaySocket, chunk: Buffer): void {
  clientChunk(this, chunk, chunk);
}

/**
 * A client read: `chunk` is forwarded, `bytes` (the same bytes: the chunk itself, or the static read buffer it was
 * copied from) is what inspection reads, so that it always reads one buffer (cmpp-inspect.ts, viewOf).
 */
function clientChunk(socket: RelaySocket, chunk: Buffer, bytes: Buffer): void {
  const s = socket[SESSION]!;
  s.bytesIn += chunk.length;
  if (s.inspection !== null) {
    if (s.closing !== null) {
      closingUp(s, chunk);
      return;
    }
    s.inspection.feedUp(bytes, 0, chunk.length);
  }
  if (s.state === 'established') {
    if (!relayWrite(s, s.upstream!, chunk)) pauseUntilDrain(socket, s.upstream!, onUpstreamDrain);
    return;
  }
  if (s.pending === null) return; // closing
  s.pending.push(chunk);
  s.pendingBytes += chunk.length;
  if (s.pendingBytes >= PENDING_LIMIT) socket.pause();
}

/** Returning false stops reading, as pause() would; the other side's 'drain' resumes it. */
function onUpstreamRead(this: RelaySocket, n: number): boolean {
  return upstreamRead(this[SESSION]!, n);
}

function upstreamRead(s: Session, n: number): boolean {
  s.bytesOut += n;
  const chunk = Buffer.allocUnsafe(n);
  readBuffer.copy(chunk, 0, 0, n);
  if (s.inspection !== null) {
    if (s.closing !== null) return closingDown(s, chunk);
    // The static read buffer, not its copy: inspection reads one buffer (cmpp-inspect.ts, viewOf).
    s.inspection.feedDown(readBuffer, 0, n);
  }
  if (relayWrite(s, s.client, chunk)) return true;
  hookDrain(s.client, onClientDrain);
  return false;
}

/** One chunk to the other side: false means stop reading until that side's 'drain'. */
function relayWrite(s: Session, to: Upstream, chunk: Buffer): boolean {
  if (to instanceof RawUpstream) return to.write(chunk);
  return s.direct ? writeToHandle(to, chunk) : to.write(chunk);
}

/**
 * 'drain' listeners are added the first time a write reports a full buffer, not per connection: most
 * sessions never fill a buffer, and every listener added at start is paid for by every connection.
 */
function hookDrain(writer: RelaySocket, onDrain: (this: RelaySocket) => void): void {
  if (writer.listenerCount('drain') === 0) writer.on('drain', onDrain);
}

/** A raw upstream reports its drain to RAW_HOST itself. */
function pauseUntilDrain(reader: RelaySocket, writer: Upstream, onDrain: (this: RelaySocket) => void): void {
  if (!(writer instanceof RawUpstream)) hookDrain(writer, onDrain);
  reader.pause();
}

/** end() on a socket already ended or destroyed builds an error (with a stack) only to drop it. */
function endOnce(socket: Upstream): void {
  if (!socket.writableEnded && !socket.destroyed) socket.end();
}

function onClientRead(this: RelaySocket, n: number): boolean {
  // Accepted sockets get their session synchronously, or are paused until then.
  if (this[SESSION] === undefined) {
    this.destroy();
    return false;
  }
  const chunk = Buffer.allocUnsafe(n);
  readBuffer.copy(chunk, 0, 0, n);
  clientChunk(this, chunk, readBuffer);
  return true;
}

const UPSTREAM_ONREAD: OnReadOpts = { buffer: readBuffer, callback: onUpstreamRead };
/** For the listener: accepted sockets read into the same buffer. */
export const CLIENT_ONREAD: OnReadOpts = { buffer: readBuffer, callback: onClientRead };

function onUpstreamDrain(this: RelaySocket): void {
  this[SESSION]!.client.resume();
}

function onClientDrain(this: RelaySocket): void {
  this[SESSION]!.upstream?.resume();
}

function onClientEnd(this: RelaySocket): void {
  const s = this[SESSION]!;
  s.clientEnded = true;
  // cmpp-account: a client that ended before its first frame was whole sends nothing more; waiting out the account
  // wait would only hold its bytes back (up to 2 s).
  if (s.awaitingAccount) s.electAfterAccount(undefined);
  if (s.closing !== null) {
    closingLegChanged(s);
    return;
  }
  // While connecting, the end is forwarded after the buffered bytes (onUpstreamConnect). An inspected client that
  // leaves without TERMINATE: the server gets one (cmpp-close.ts).
  if (
    s.state === 'established' &&
    (s.inspection === null || !clientLegDied(s, 'client left without TERMINATE', ''))
  )
    endOnce(s.upstream!);
}

function onUpstreamEnd(this: RelaySocket): void {
  upstreamEnded(this[SESSION]!);
}

function upstreamEnded(s: Session): void {
  s.upstreamEnded = true;
  if (s.closing !== null) {
    closingLegChanged(s);
    return;
  }
  if (s.inspection !== null && serverLegDied(s, 'server left without TERMINATE')) return;
  if (s.state === 'established') s.state = s.clientEnded ? 'closing' : s.state;
  // end() sends FIN only after everything already written to the client has been flushed.
  endOnce(s.client);
}

function onSocketError(): void {
  // 'close' follows with hadError = true; that is where the other side is dealt with.
}

function onClientClose(this: RelaySocket, hadError: boolean): void {
  const s = this[SESSION]!;
  s.clientClosed = true;
  if (s.cause === '' && s.closeReason === '' && (hadError || !s.clientEnded)) s.cause = 'C';
  if (s.closing !== null) {
    closingLegChanged(s);
    s.maybeFinished();
    return;
  }
  const upstream = s.upstream;
  if (upstream !== null) {
    if (s.state !== 'established') {
      // Still connecting: nobody to deliver to.
      s.clearTimer();
      upstream.destroy();
    } else if (hadError || !s.clientEnded) {
      // An inspected client gone without TERMINATE: the server gets one (cmpp-close.ts).
      if (s.inspection === null || !clientLegDied(s, 'client gone without TERMINATE', 'C'))
        upstream.destroy();
    } else {
      endOnce(upstream);
    }
  } else {
    s.clearTimer();
  }
  s.maybeFinished();
}

function onUpstreamError(this: RelaySocket, error: NodeJS.ErrnoException): void {
  const s = this[SESSION];
  if (s === undefined || s.upstream !== this) return;
  if (s.state === 'connecting' && s.closeReason === '' && !s.clientClosed)
    s.failAttempt(error.code ?? 'ERROR');
}

function onUpstreamClose(this: RelaySocket, hadError: boolean): void {
  const s = this[SESSION];
  if (s === undefined || s.upstream !== this) return; // an abandoned attempt
  upstreamClosed(s, hadError);
}

function upstreamClosed(s: Session, hadError: boolean): void {
  s.upstreamClosed = true;
  if (s.cause === '' && s.closeReason === '' && (hadError || !s.upstreamEnded)) s.cause = 'S';
  if (s.closing !== null) {
    closingLegChanged(s);
    s.maybeFinished();
    return;
  }
  s.clearTimer();
  if (hadError || !s.upstreamEnded) {
    // An inspected server gone without TERMINATE: the client gets one (cmpp-close.ts).
    if (s.inspection === null || !serverLegDied(s, 'server gone without TERMINATE')) s.client.destroy();
  } else endOnce(s.client);
  s.maybeFinished();
}

function onConnectTimeout(s: Session): void {
  s.timer = null;
  if (s.state === 'connecting' && s.upstream !== null) s.failAttempt('ETIMEDOUT');
}

function onUpstreamConnect(this: RelaySocket): void {
  const s = this[SESSION];
  if (s === undefined || s.upstream !== this) return;
  upstreamConnected(s, this);
}

function upstreamConnected(s: Session, upstream: Upstream): void {
  s.clearTimer();
  s.state = 'established';
  s.connectedAt = Date.now();
  const header = s.host.proxyHeader(s);
  const pending = s.pending!;
  s.pending = null;
  let flowing = true;
  if (upstream instanceof RawUpstream) {
    // In order through libuv's one write queue (a write it queues keeps its chunk).
    if (header !== undefined) flowing = upstream.write(header);
    for (const chunk of pending) flowing = upstream.write(chunk) && flowing;
  } else if (header === undefined && pending.length <= 1) {
    // The usual case (the client's first bytes, or none yet): one plain write, no cork.
    if (pending.length === 1) flowing = upstream.write(pending[0]);
  } else {
    // Header and held bytes leave in one writev.
    upstream.cork();
    if (header !== undefined) upstream.write(header);
    for (const chunk of pending) flowing = upstream.write(chunk);
    upstream.uncork();
  }
  if (s.clientEnded) upstream.end();
  else if (s.pendingBytes >= PENDING_LIMIT && flowing) s.client.resume();
  else if (!flowing) pauseUntilDrain(s.client, upstream, onUpstreamDrain);
  s.pendingBytes = 0;
}

/** What a raw upstream tells its session (the same steps as the socket handlers above). */
const RAW_HOST: RawUpstreamHost = {
  connected(upstream) {
    const s = ownerOf(upstream);
    if (s !== null) upstreamConnected(s, upstream);
  },
  connectFailed(upstream, code) {
    const s = ownerOf(upstream);
    if (s !== null && s.state === 'connecting' && s.closeReason === '' && !s.clientClosed)
      s.failAttempt(code);
  },
  read(upstream, n) {
    const s = ownerOf(upstream);
    return s !== null && upstreamRead(s, n);
  },
  ended(upstream) {
    const s = ownerOf(upstream);
    if (s !== null) upstreamEnded(s);
  },
  drained(upstream) {
    ownerOf(upstream)?.client.resume();
  },
  closed(upstream, hadError) {
    const s = ownerOf(upstream);
    if (s !== null) upstreamClosed(s, hadError);
  },
};

/** The session a raw upstream still belongs to (null: an abandoned attempt). */
function ownerOf(upstream: RawUpstream): Session | null {
  const s = upstream.owner as Session | null;
  return s !== null && s.upstream === upstream ? s : null;
}

function rawConnectNeverStarted(s: Session, upstream: RawUpstream, err: number): void {
  if (ownerOf(upstream) === null) return;
  upstream.destroy(true);
  RAW_HOST.connectFailed(upstream, getSystemErrorName(err));
}

function onAccountWaitOver(s: Session): void {
  s.timer = null;
  s.electAfterAccount(undefined);
}
