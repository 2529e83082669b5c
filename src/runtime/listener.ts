// A bound listening socket. It holds a swappable reference to its frontend (Traefik's switcher):
// apply() changes what new connections read without rebuilding the listener.
//
// Over maxconn HAProxy stops polling the listening socket, so new clients wait in the kernel's
// accept queue. Node has no public switch for that; libuv stops polling a listening handle on
// readStop() when the handle was opened as readable, which `TCP.open(fd)` on a bound, not yet
// listening handle does. That path is self-tested at bind time; without it we fall back to the
// public listen() and accept-then-hold (see `held`).
import net, { isIP, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { FrontendRuntime } from './frontend.js';

const LISTENER = Symbol('tether.listener');
type ListenerServer = net.Server & { [LISTENER]?: Listener };

export interface ListenerHost {
  accept(listener: Listener, socket: Socket): void;
  listenerError(listener: Listener, error: NodeJS.ErrnoException): void;
  listenerDrop(listener: Listener): void;
}

interface RawTcpHandle {
  fd: number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  open(fd: number): number;
  readStart(): number;
  readStop(): number;
  close(): void;
}

let rawTcp: { TCP: new (type: number) => RawTcpHandle; constants: { SERVER: number } } | null | undefined;

function rawTcpBinding() {
  if (rawTcp === undefined) {
    try {
      rawTcp = (process as unknown as { binding(name: string): typeof rawTcp }).binding('tcp_wrap');
    } catch {
      rawTcp = null;
    }
  }
  return rawTcp;
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
  paused = false;
  closed = false;
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

  /** Binds and listens; rejects with BindError carrying the errno code. */
  async listen(): Promise<void> {
    const handle = this.bindRaw();
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        handle?.close();
        reject(new BindError(error.code ?? 'EUNKNOWN', error.message));
      };
      const onListening = () => {
        this.server.off('error', onError);
        // From now on errors (EMFILE on accept) are reported, never thrown.
        this.server.on('error', onServerError);
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      if (handle !== null) this.server.listen({ handle, backlog: 4096 });
      else this.server.listen({ host: this.address, port: this.port, backlog: 4096, exclusive: true });
    });
    this.handle = handle;
  }

  /** Bound raw handle opened as readable (pausable), or null to use the public path. */
  private bindRaw(): RawTcpHandle | null {
    const binding = rawTcpBinding();
    if (!binding) return null;
    let handle: RawTcpHandle;
    try {
      handle = new binding.TCP(binding.constants.SERVER);
    } catch {
      return null;
    }
    const err =
      isIP(this.address) === 6
        ? handle.bind6(this.address, this.port, 0)
        : handle.bind(this.address, this.port);
    if (err !== 0) {
      handle.close();
      const code = getSystemErrorName(err);
      throw new BindError(code, `bind ${this.address}:${this.port} failed: ${code}`);
    }
    // open() on the handle's own fd only sets libuv's readable flag (see the file comment); if it
    // fails the handle still listens, and pause() falls back to holding accepted sockets.
    if (typeof handle.fd === 'number' && handle.fd >= 0) handle.open(handle.fd);
    return handle;
  }

  /** Stop accepting: new clients wait in the kernel backlog. */
  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    if (this.handle !== null) {
      // readStart marks the handle as reading so that readStop stops polling it.
      this.handle.readStart();
      if (this.handle.readStop() !== 0) this.handle = null;
    }
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    if (this.handle !== null) this.handle.readStart();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Stops listening at once; sessions already accepted are not ours to close.
    this.server.close();
    for (const socket of this.held.splice(0)) socket.destroy();
  }
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
