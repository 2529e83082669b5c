// A bound listening socket. It holds a swappable reference to its frontend (Traefik's switcher):
// apply() changes what new connections read without rebuilding the listener.
//
// Over maxconn HAProxy stops polling the listening socket, so new clients wait in the kernel's
// accept queue. Node has no public switch for that; libuv stops polling a listening handle on
// readStop() when the handle was opened as readable, which `TCP.open(fd)` on a bound, not yet
// listening handle does. That path is self-tested at bind time; without it we fall back to the
// public listen() and accept-then-hold (see `held`).
//
// Accepted sockets read into a caller's buffer (`onread`, PERFORMANCE.md) when the host asks for it.
// Node 20 passes no `onread` to accepted sockets, so the listening handle's onconnection is replaced
// by a copy of Node's that adds it, as cluster's round-robin handle does. A loopback self-test runs
// once per process before the first listen; if it fails, sockets come from the public path.
import net, { isIP, type OnReadOpts, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { FrontendRuntime } from './frontend.js';

const LISTENER = Symbol('tether.listener');
type ListenerServer = net.Server & { [LISTENER]?: Listener };

/** Set on sockets created with `onread`: they emit no 'data'; the onread callback gets the bytes. */
export const USER_READ = Symbol('tether.userRead');

export interface ListenerHost {
  /** Read buffer and callback for accepted sockets, or undefined for plain 'data' sockets. */
  readonly clientOnRead?: OnReadOpts;
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
  /** Accepted sockets are created with the host's `onread`. */
  userRead = false;
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
    const onread = this.host.clientOnRead;
    const hook = onread !== undefined && (await acceptHookWorks()) ? onread : undefined;
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
        // Synchronously in 'listening': no connection can have been accepted yet.
        if (hook !== undefined) this.userRead = installOnReadAccept(this.server, hook);
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

// ---- accepted sockets with onread ----------------------------------------------------------------

interface ServerHandle {
  onconnection?: (err: number, clientHandle?: ClientHandle) => void;
}
interface ClientHandle {
  close(): void;
}
type HookedServer = net.Server & { _handle?: ServerHandle | null; _connections: number };
type HookedSocket = Socket & { [USER_READ]?: boolean; server: net.Server | null; _server: net.Server | null };

let forced: boolean | undefined;
let hookCheck: Promise<boolean> | undefined;

/** Tests: false forces the public accept path, undefined restores the self-tested default. */
export function setAcceptOnRead(enabled: boolean | undefined): void {
  forced = enabled;
}

function acceptHookWorks(): Promise<boolean> {
  if (forced === false) return Promise.resolve(false);
  hookCheck ??= selfTestAcceptHook(installOnReadAccept);
  return hookCheck;
}

/**
 * Replaces the listening handle's onconnection with Node 20's own (lib/net.js) plus `onread`.
 * Returns false, changing nothing, when the private handle isn't there.
 */
export function installOnReadAccept(server: net.Server, onread: OnReadOpts): boolean {
  const hooked = server as HookedServer;
  const handle = hooked._handle;
  if (handle == null || typeof handle.onconnection !== 'function') return false;
  handle.onconnection = (err, clientHandle) => {
    if (err !== 0 || clientHandle === undefined) {
      const code = getSystemErrorName(err);
      server.emit(
        'error',
        Object.assign(new Error(`accept ${code}`), { errno: err, code, syscall: 'accept' }),
      );
      return;
    }
    if (server.maxConnections && hooked._connections >= server.maxConnections) {
      clientHandle.close();
      server.emit('drop');
      return;
    }
    const socket = new net.Socket({
      handle: clientHandle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread,
    } as net.SocketConstructorOpts) as HookedSocket;
    // What net.createServer({ noDelay, keepAlive }) does at accept.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 0);
    socket[USER_READ] = true;
    hooked._connections++;
    socket.server = server;
    socket._server = server;
    server.emit('connection', socket);
  };
  return true;
}

const PROBE = Buffer.from('tether accept self-test');

/**
 * Proves on loopback that a hooked accept gives a working socket: the bytes reach the onread
 * callback with the socket as `this`, pause() and resume() stop and restart reading, writes and
 * half-close work, and the server counts the connection and closes when it ends.
 */
export async function selfTestAcceptHook(
  install: (server: net.Server, onread: OnReadOpts) => boolean,
  timeoutMs = 2000,
): Promise<boolean> {
  const server = net.createServer({ allowHalfOpen: true });
  let client: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      server.on('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const received: Buffer[] = [];
        const buffer = Buffer.alloc(8);
        let socket: Socket | undefined;
        let paused = false;
        const onread: OnReadOpts = {
          buffer,
          callback(this: unknown, n: number, buf: Uint8Array): boolean {
            // Reading must stop between pause() and resume().
            if (this !== socket || buf !== buffer || paused) resolve(false);
            received.push(Buffer.from(buffer.subarray(0, n)));
            if (received.length === 1) {
              paused = true;
              socket!.pause();
              setTimeout(() => {
                paused = false;
                socket!.resume();
              }, 5);
            }
            return true;
          },
        };
        let installed = false;
        try {
          installed = install(server, onread);
        } catch {
          // falls through to false
        }
        if (!installed) return resolve(false);
        server.on('connection', (accepted: Socket) => {
          socket = accepted;
          if ((accepted as HookedSocket).server !== server) resolve(false);
          accepted.on('error', () => resolve(false));
          accepted.on('end', () => {
            const ok = Buffer.concat(received).equals(PROBE) && received.length > 1;
            if (!ok) resolve(false);
            else accepted.end(PROBE);
          });
        });
        client = net.connect({
          host: '127.0.0.1',
          port: (server.address() as net.AddressInfo).port,
          allowHalfOpen: true,
        });
        client.on('error', () => resolve(false));
        const echoed: Buffer[] = [];
        client.on('data', (chunk: Buffer) => echoed.push(chunk));
        client.on('end', () => {
          if (!Buffer.concat(echoed).equals(PROBE)) return resolve(false);
          // The server must have counted the connection and see it go.
          server.close(() => resolve(true));
          client!.end();
        });
        client.on('connect', () => client!.end(PROBE));
      });
    });
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    client?.destroy();
    server.close();
  }
}
