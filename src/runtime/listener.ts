// A bound listening socket. It holds a swappable reference to its frontend (Traefik's switcher):
// apply() changes what new connections read without rebuilding the listener.
//
// Two paths use private Node internals (docs/runtime-hot-path.md, "Node internals"); each has a
// loopback self-test that runs once per process, and each falls back to the public API when its
// self-test fails, when a return code says no, or when the operator turns internals off:
// - pause: over maxconn HAProxy stops polling the listening socket, so new clients wait in the
//   kernel's accept queue. libuv stops polling a listening handle on readStop() when the handle was
//   opened as readable, which `TCP.open(fd)` on a bound, not yet listening handle does. Fallback:
//   the public listen() and accept-then-hold (see `held`).
// - accept: accepted sockets read into the host's buffer (`onread`). Node 20 passes no `onread` to
//   accepted sockets, so the listening handle's onconnection is replaced by a copy of Node's that
//   adds it, as cluster's round-robin handle does. Fallback: plain 'data' sockets.
// Which path is in use is plain data (ListenerPaths): logged at start, shown in /healthz.
import net, { isIP, type OnReadOpts, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { FrontendRuntime } from './frontend.js';
import {
  bindRawHandle,
  installOnReadAccept,
  rawTcpBinding,
  uvError,
  type RawTcpHandle,
} from './node-internals.js';
import type { ListenerPathReport, ListenerPaths } from './types.js';

export { USER_READ } from './node-internals.js';

const LISTENER = Symbol('tether.listener');
type ListenerServer = net.Server & { [LISTENER]?: Listener };

export interface ListenerHost {
  /** Read buffer and callback for accepted sockets, or undefined for plain 'data' sockets. */
  readonly clientOnRead?: OnReadOpts;
  /** Listen through node:cluster's shared handle (worker processes, docs/workers.md) instead of binding here. */
  readonly sharedListen?: boolean;
  /** The paths this host's listeners use (self-tested once per process; cheap: called per listen). */
  pathsInUse(): Promise<ListenerPaths>;
  accept(listener: Listener, socket: Socket): void;
  listenerError(listener: Listener, error: NodeJS.ErrnoException): void;
  listenerDrop(listener: Listener): void;
  /** Accepting stopped at the descriptor budget (descriptors.ts): counted like an EMFILE. */
  sessionBudgetReached(sessions: number, budget: number): void;
}

export class BindError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Listener {
  readonly server: ListenerServer;
  private handle: RawTcpHandle | null = null;
  /** Accepted sockets are created with the host's `onread`. */
  userRead = false;
  paused = false;
  closed = false;
  /** Why this listener holds instead of stopping to poll, when the host's path is readstop. */
  private pauseFallback: string | undefined;
  /** Until then (epoch ms) an accept error (EMFILE) keeps it paused whatever the limits say. */
  errorPausedUntil = 0;
  /** Connections accepted in the same accept burst after the pause (libuv accepts in a loop). */
  readonly held: Socket[] = [];

  constructor(
    public frontend: FrontendRuntime,
    readonly address: string,
    readonly port: number,
    readonly host: ListenerHost,
  ) {
    this.server = net.createServer({ noDelay: true, keepAlive: true, allowHalfOpen: true }) as ListenerServer;
    this.server[LISTENER] = this;
    this.server.on('connection', onConnection);
    this.server.on('drop', onDrop);
  }

  get pausable(): boolean {
    return this.handle !== null;
  }

  report(): ListenerPathReport {
    return {
      frontend: this.frontend.name,
      address: this.address,
      port: this.port,
      pause: this.handle !== null ? 'readstop' : 'hold',
      accept: this.userRead ? 'onread' : 'public',
      held: this.held.length,
      ...(this.pauseFallback !== undefined && { pauseFallback: this.pauseFallback }),
    };
  }

  /** Binds and listens; rejects with BindError carrying the errno code. */
  async listen(): Promise<void> {
    const paths = await this.host.pathsInUse();
    const onread = paths.accept === 'onread' ? this.host.clientOnRead : undefined;
    const shared = this.host.sharedListen === true;
    const raw = paths.pause === 'readstop' && !shared ? this.bindRaw() : null;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        raw?.handle.close();
        reject(new BindError(error.code ?? 'EUNKNOWN', error.message));
      };
      const onListening = () => {
        this.server.off('error', onError);
        // From now on errors (EMFILE on accept) are reported, never thrown.
        this.server.on('error', onServerError);
        // Synchronously in 'listening': no connection can have been accepted yet.
        if (onread !== undefined) this.userRead = installOnReadAccept(this.server, onread);
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      if (raw !== null) this.server.listen({ handle: raw.handle, backlog: 4096 });
      // Shared: the cluster primary binds once and every worker listens on that one socket.
      else this.server.listen({ host: this.address, port: this.port, backlog: 4096, exclusive: !shared });
    });
    this.handle = raw?.pausable ? raw.handle : null;
    // A handle received over IPC is readable in libuv's eyes like one from TCP.open(fd): readStop()
    // stops this worker polling the shared socket (the others keep accepting). pause() checks codes.
    if (shared && paths.pause === 'readstop') this.handle = sharedHandle(this.server);
  }

  /** A bound raw handle; pausable when open() said yes. Throws BindError when the bind fails. */
  private bindRaw(): { handle: RawTcpHandle; pausable: boolean } | null {
    const binding = rawTcpBinding();
    if (!binding) {
      this.pauseFallback = 'no tcp_wrap binding';
      return null;
    }
    let bound: ReturnType<typeof bindRawHandle>;
    try {
      bound = bindRawHandle(binding, this.address, this.port, isIP(this.address) === 6);
    } catch (error) {
      this.pauseFallback = `raw handle: ${String(error)}`;
      return null;
    }
    if (bound.bindError !== 0) {
      bound.handle.close();
      const code = getSystemErrorName(bound.bindError);
      throw new BindError(code, `bind ${this.address}:${this.port} failed: ${code}`);
    }
    // A failed open() leaves a bound handle that listens but can't be paused: it holds instead.
    if (bound.openError !== 0) this.pauseFallback = uvError('open()', bound.openError);
    return { handle: bound.handle, pausable: bound.openError === 0 };
  }

  /** Stop accepting: new clients wait in the kernel backlog (or, on the public path, are held). */
  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    if (this.handle !== null) {
      // readStart marks the handle as reading so that readStop stops polling it.
      const started = this.handle.readStart();
      const stopped = started === 0 ? this.handle.readStop() : 0;
      if (started !== 0 || stopped !== 0) {
        this.pauseFallback = started !== 0 ? uvError('readStart()', started) : uvError('readStop()', stopped);
        // Still polled (readStop failed or never ran): accept-then-hold from now on.
        if (started === 0) this.handle.readStart();
        this.handle = null;
      }
    }
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    if (this.errorPausedUntil > Date.now()) return;
    this.paused = false;
    if (this.handle !== null) {
      const started = this.handle.readStart();
      if (started !== 0) {
        // Not polled any more and no way back: say so loudly; the frontend shows it as drops.
        this.pauseFallback = uvError('readStart() on resume', started);
        this.handle = null;
        this.host.listenerError(
          this,
          Object.assign(new Error(this.pauseFallback), { code: getSystemErrorName(started) }),
        );
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Stops listening at once; sessions already accepted are not ours to close.
    this.server.close();
    for (const socket of this.held.splice(0)) socket.destroy();
  }
}

function sharedHandle(server: net.Server): RawTcpHandle | null {
  const handle = (server as unknown as { _handle?: Partial<RawTcpHandle> | null })._handle;
  return handle && typeof handle.readStart === 'function' && typeof handle.readStop === 'function'
    ? (handle as RawTcpHandle)
    : null;
}

function onConnection(this: ListenerServer, socket: Socket): void {
  const listener = this[LISTENER]!;
  listener.host.accept(listener, socket);
}

function onDrop(this: ListenerServer): void {
  const listener = this[LISTENER]!;
  listener.host.listenerDrop(listener);
}

function onServerError(this: ListenerServer, error: NodeJS.ErrnoException): void {
  const listener = this[LISTENER]!;
  listener.host.listenerError(listener, error);
}
