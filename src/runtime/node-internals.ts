// The private Node internals the listeners use, their loopback self-tests, and the plain-data report
// of which path is in use (docs/runtime-hot-path.md, "Node internals"). Everything private that
// src/runtime touches is in this file and raw-upstream.ts, so a Node upgrade has two places to check.
//
// - pause: a listening handle opened with `TCP.open(fd)` is readable in libuv's eyes, so readStop()
//   stops polling it and new clients wait in the kernel's accept queue (what HAProxy does over
//   maxconn). Public fallback: accept, then hold the socket unread.
// - accept: the listening handle's onconnection is replaced by a copy of Node 20's that passes
//   `onread` to the accepted socket. Public fallback: sockets that emit 'data'.
// - write: the relay writes each chunk through the socket's libuv handle (`writeBuffer` with a
//   WriteWrap), not through net.Socket's Writable. Public fallback: `socket.write()`.
//
// Each self-test runs once per process, on loopback, bounded in time; a failure only means the
// public path is used. Their servers listen `exclusive`: in node:cluster workers a plain listen on port 0
// would share one socket across every worker's self-test, and one worker could accept another's client. The results are cached: every runtime of the process shares them.
import net, { type OnReadOpts, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { selfTestRawUpstream } from './raw-upstream.js';
import type { AcceptPath, ListenerPaths } from './types.js';

export interface RawTcpHandle {
  fd: number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  open(fd: number): number;
  readStart(): number;
  readStop(): number;
  getsockname(out: { port?: number }): number;
  close(): void;
}

export interface RawTcpBinding {
  TCP: new (type: number) => RawTcpHandle;
  constants: { SERVER: number };
}

let rawTcp: RawTcpBinding | null | undefined;

export function rawTcpBinding(): RawTcpBinding | null {
  if (rawTcp === undefined) {
    try {
      rawTcp = (process as unknown as { binding(name: string): RawTcpBinding }).binding('tcp_wrap');
    } catch {
      rawTcp = null;
    }
  }
  return rawTcp;
}

/** Text of a libuv return code: `open() -> EBADF`. */
export function uvError(call: string, code: number): string {
  return `${call} -> ${getSystemErrorName(code)}`;
}

// ---- which paths -------------------------------------------------------------------------------

const SELF_TEST_MS = 2000;
/** The write self-test moves a few MB (until loopback's buffers are full): more room on a loaded machine. */
const WRITE_SELF_TEST_MS = 5000;
let pauseCheck: Promise<string | null> | undefined;
let acceptCheck: Promise<string | null> | undefined;
let writeCheck: Promise<string | null> | undefined;

/**
 * The paths a runtime uses. `internals: false` (TETHER_NODE_INTERNALS=off) forces both public paths;
 * `onread: false` means the host wants plain 'data' sockets anyway.
 */
export async function resolveListenerPaths(options: {
  internals: boolean;
  onread: boolean;
}): Promise<ListenerPaths> {
  const node = process.version;
  if (!options.internals) {
    const reason = 'turned off by setting (TETHER_NODE_INTERNALS=off)';
    return {
      pause: 'hold',
      accept: 'public',
      write: 'stream',
      pauseReason: reason,
      acceptReason: reason,
      writeReason: reason,
      node,
    };
  }
  pauseCheck ??= selfTestAcceptPause();
  acceptCheck ??= selfTestAcceptHook(installOnReadAccept).then((ok) =>
    ok ? null : 'an onread socket did not read, pause, write or close as Node does',
  );
  // The write path covers both sides: direct writes to accepted sockets, raw handles for server sides.
  writeCheck ??= selfTestDirectWrite().then(async (failure) => failure ?? (await selfTestRawUpstream()));
  const [pauseFailure, acceptFailure, writeFailure] = await Promise.all([
    pauseCheck,
    acceptCheck,
    writeCheck,
  ]);
  const accept: AcceptPath = options.onread && acceptFailure === null ? 'onread' : 'public';
  return {
    pause: pauseFailure === null ? 'readstop' : 'hold',
    accept,
    pauseReason: pauseFailure === null ? 'self-test passed' : `self-test failed: ${pauseFailure}`,
    acceptReason: !options.onread
      ? 'not asked for by the runtime'
      : acceptFailure === null
        ? 'self-test passed'
        : `self-test failed: ${acceptFailure}`,
    write: writeFailure === null ? 'handle' : 'stream',
    writeReason: writeFailure === null ? 'self-test passed' : `self-test failed: ${writeFailure}`,
    node,
  };
}

// ---- pause: a listening handle that stops being polled -----------------------------------------

/**
 * Opens a raw handle for listening on loopback and returns it, or why it can't be pausable. The
 * handle is bound; `open()` on its own fd only sets libuv's readable flag.
 */
export function bindRawHandle(
  binding: RawTcpBinding,
  address: string,
  port: number,
  ipv6: boolean,
): { handle: RawTcpHandle; bindError: number; openError: number } {
  const handle = new binding.TCP(binding.constants.SERVER);
  const bindError = ipv6 ? handle.bind6(address, port, 0) : handle.bind(address, port);
  if (bindError !== 0) return { handle, bindError, openError: 0 };
  const openError = typeof handle.fd === 'number' && handle.fd >= 0 ? handle.open(handle.fd) : -9; // EBADF
  return { handle, bindError, openError };
}

/**
 * Proves on loopback that a listener paused with readStop() leaves a client in the kernel's queue and
 * that readStart() serves it. Every return code is checked. Resolves null when it works, or what
 * failed. "Not accepted" is proved without a timed wait: a second, public listener accepts a client
 * that connected after the first one, and the loop then turns once more (level-triggered polling
 * reports both ready sockets in one round).
 */
export async function selfTestAcceptPause(
  bind: typeof bindRawHandle = bindRawHandle,
  timeoutMs = SELF_TEST_MS,
): Promise<string | null> {
  const binding = rawTcpBinding();
  if (binding === null) return 'no tcp_wrap binding';
  let raw: RawTcpHandle | undefined;
  const server = net.createServer();
  const control = net.createServer();
  const clients: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const connectClient = (port: number) => {
    const client = net.connect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    clients.push(client);
    return new Promise<void>((resolve) => client.once('connect', () => resolve()));
  };
  try {
    return await new Promise<string | null>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      void (async () => {
        const bound = bind(binding, '127.0.0.1', 0, false);
        raw = bound.handle;
        if (bound.bindError !== 0) return resolve(uvError('bind()', bound.bindError));
        if (bound.openError !== 0) return resolve(uvError('open()', bound.openError));
        const acceptedSockets: Socket[] = [];
        let accepted: () => void = () => {};
        server.on('connection', (socket: Socket) => {
          socket.destroy();
          acceptedSockets.push(socket);
          accepted();
        });
        server.on('error', (error) => resolve(`listen: ${error.message}`));
        await new Promise<void>((ok) => server.listen({ handle: raw }, () => ok()));
        const out: { port?: number } = {};
        const nameError = raw.getsockname(out);
        if (nameError !== 0 || !out.port) return resolve(uvError('getsockname()', nameError));
        const startError = raw.readStart();
        if (startError !== 0) return resolve(uvError('readStart()', startError));
        const stopError = raw.readStop();
        if (stopError !== 0) return resolve(uvError('readStop()', stopError));

        await connectClient(out.port);
        // Barrier: a client that connected later is accepted by a polled listener.
        const controlAccepted = new Promise<void>((ok) =>
          control.on('connection', (socket: Socket) => {
            socket.destroy();
            ok();
          }),
        );
        await new Promise<void>((ok) =>
          control.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => ok()),
        );
        await connectClient((control.address() as net.AddressInfo).port);
        await controlAccepted;
        await new Promise((ok) => setImmediate(ok));
        if (acceptedSockets.length !== 0) return resolve('a paused listener still accepted');

        const resumed = new Promise<void>((ok) => (accepted = ok));
        const restartError = raw.readStart();
        if (restartError !== 0) return resolve(uvError('readStart() after readStop()', restartError));
        await resumed;
        resolve(acceptedSockets.length > 1 ? `${acceptedSockets.length} accepts for one client` : null);
      })().catch((error: unknown) => resolve(String(error)));
    });
  } finally {
    clearTimeout(timer);
    for (const client of clients) client.destroy();
    control.close();
    if (server.listening) server.close();
    else raw?.close();
  }
}

// ---- accept: sockets with onread ----------------------------------------------------------------

/** Set on sockets created with `onread`: they emit no 'data'; the onread callback gets the bytes. */
export const USER_READ = Symbol('tether.userRead');

interface ServerHandle {
  onconnection?: (err: number, clientHandle?: ClientHandle) => void;
}
interface ClientHandle {
  close(): void;
}
type HookedServer = net.Server & { _handle?: ServerHandle | null; _connections: number };
type HookedSocket = Socket & { [USER_READ]?: boolean; server: net.Server | null; _server: net.Server | null };

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
  timeoutMs = SELF_TEST_MS,
): Promise<boolean> {
  const server = net.createServer({ allowHalfOpen: true });
  let client: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      server.on('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
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

// ---- write: straight to the stream handle -------------------------------------------------------

interface WriteReq {
  handle: WritableHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  /** Kept alive until libuv is done with it (a queued write holds a reference, not a copy). */
  buffer: Buffer | null;
  socket: DirectSocket | null;
}
interface WritableHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
}
interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}
/** Direct writes libuv still holds for a socket; 'drain' is emitted when they are all done. */
const DIRECT_PENDING = Symbol('tether.directPending');
type DirectSocket = Socket & {
  _handle?: WritableHandle | null;
  connecting: boolean;
  [DIRECT_PENDING]?: number;
};

let streamWrap: StreamWrapBinding | null | undefined;

function streamWrapBinding(): StreamWrapBinding | null {
  if (streamWrap === undefined) {
    try {
      const binding = (process as unknown as { binding(name: string): StreamWrapBinding }).binding(
        'stream_wrap',
      );
      streamWrap =
        typeof binding.WriteWrap === 'function' &&
        binding.streamBaseState instanceof Int32Array &&
        typeof binding.kLastWriteWasAsync === 'number'
          ? binding
          : null;
    } catch {
      streamWrap = null;
    }
  }
  return streamWrap;
}

function writeError(status: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`write ${code}`), { errno: status, code, syscall: 'write' });
}

/**
 * Writes `chunk` through the socket's libuv handle, bypassing net.Socket's Writable (its state machine,
 * callbacks and nextTicks per write). What libuv writes at once is done; a write it has to queue (the
 * kernel's buffer is full) holds `chunk` until complete and makes this return false: the caller stops
 * reading, and the socket emits 'drain' once every queued direct write is done. Falls back to
 * `socket.write()` whenever the Writable has something of its own in flight (order is kept: both end
 * up in the one libuv write queue, and end()'s shutdown waits for it). Only after the self-test passed.
 */
export function writeToHandle(socket: Socket, chunk: Buffer): boolean {
  const s = socket as DirectSocket;
  const handle = s._handle;
  const binding = streamWrap;
  if (binding == null || handle == null || s.connecting || s.writableLength !== 0 || s.writableEnded)
    return socket.write(chunk);
  const req = new binding.WriteWrap();
  req.handle = handle;
  req.oncomplete = onDirectWriteComplete;
  req.buffer = null;
  req.socket = null;
  const err = handle.writeBuffer(req, chunk);
  if (err !== 0) {
    s.destroy(writeError(err));
    return false;
  }
  if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) return true;
  req.buffer = chunk;
  req.socket = s;
  s[DIRECT_PENDING] = (s[DIRECT_PENDING] ?? 0) + 1;
  return false;
}

function onDirectWriteComplete(this: WriteReq, status: number): void {
  const socket = this.socket!;
  this.socket = null;
  this.buffer = null;
  const pending = (socket[DIRECT_PENDING] = socket[DIRECT_PENDING]! - 1);
  if (socket.destroyed) return;
  if (status < 0) socket.destroy(writeError(status));
  else if (pending === 0) socket.emit('drain');
}

/**
 * Proves on loopback that direct writes work as writeToHandle assumes: a small write completes at once,
 * writes to a peer that doesn't read end up queued (false) and 'drain' follows once the peer has read
 * them, every byte arrives in order, and end() sends FIN only after the queued bytes.
 */
export async function selfTestDirectWrite(timeoutMs = WRITE_SELF_TEST_MS): Promise<string | null> {
  if (streamWrapBinding() === null) return 'no usable stream_wrap binding';
  const server = net.createServer({ allowHalfOpen: true });
  let client: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  const small = Buffer.from('tether direct-write self-test ');
  // 256 KB pieces until one is queued: loopback's socket buffers hold a few MB at most (bounded: 32 MB).
  const piece = Buffer.alloc(256 * 1024);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 7) & 0xff;
  const maxPieces = 128;
  try {
    return await new Promise<string | null>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      server.on('error', (error) => resolve(`listen: ${error.message}`));
      server.on('connection', (accepted: Socket) => {
        accepted.on('error', (error) => resolve(`server socket: ${error.message}`));
        if (!writeToHandle(accepted, small)) return resolve('a small write was queued');
        let pieces = 0;
        let drained = false;
        accepted.once('drain', () => {
          drained = true;
          accepted.end();
        });
        // Each piece is its own buffer: a queued write holds a reference to it.
        while (writeToHandle(accepted, Buffer.from(piece)))
          if (++pieces >= maxPieces) return resolve(`${maxPieces} pieces written without queueing`);
        pieces++;
        // The client checks every byte as it arrives: the small write, then `pieces` copies of `piece`.
        let at = -small.length;
        let bad = false;
        client!.on('data', (chunk: Buffer) => {
          for (let i = 0; i < chunk.length;) {
            const [source, from] = at < 0 ? [small, small.length + at] : [piece, at % piece.length];
            const n = Math.min(source.length - from, chunk.length - i);
            if (chunk.compare(source, from, from + n, i, i + n) !== 0) bad = true;
            i += n;
            at += n;
          }
        });
        client!.on('end', () => {
          if (!drained) return resolve("FIN before 'drain'");
          if (bad || at !== pieces * piece.length) return resolve('bytes differ');
          resolve(null);
        });
        client!.resume();
      });
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
        client.on('error', (error) => resolve(`client: ${error.message}`));
        client.pause();
      });
    });
  } catch (error) {
    return String(error);
  } finally {
    clearTimeout(timer);
    client?.destroy();
    server.close();
  }
}
