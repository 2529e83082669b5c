// The server side of a session on a raw libuv TCP handle, without net.Socket (docs/runtime-hot-path.md,
// "Server side: raw handles"). A net.Socket is two stream states, an event emitter, bound callbacks and
// about 1 KB of heap; this is one small object and the handle. It does what the relay needs and no more:
// connect, read into the relay's buffer, write (queued writes hold their chunk and report 'drain'),
// half-close after the queued writes, close. Private Node internals: used only after the self-test in
// node-internals.ts passed; the public path is net.connect().
import { getSystemErrorName } from 'node:util';

interface TcpHandle {
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Buffer): number;
  shutdown(req: ShutdownReq): number;
  close(callback: (this: TcpHandle) => void): void;
  setNoDelay(on: boolean): number;
  setKeepAlive(on: boolean, delaySeconds: number): number;
  onread: (this: TcpHandle) => void;
  [OWNER]?: RawUpstream | null;
}
interface ConnectReq {
  oncomplete: (status: number, handle: TcpHandle) => void;
}
interface WriteReq {
  handle: TcpHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  buffer: Buffer | null;
  upstream: RawUpstream | null;
}
interface ShutdownReq {
  handle: TcpHandle;
  oncomplete: (this: ShutdownReq, status: number) => void;
  upstream: RawUpstream | null;
}
export interface RawBindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  SOCKET: number;
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  UV_EOF: number;
}

const OWNER = Symbol('tether.rawUpstream');

/** What the session is told; plain functions, so no closure per connection. */
export interface RawUpstreamHost {
  connected(upstream: RawUpstream): void;
  connectFailed(upstream: RawUpstream, code: string): void;
  /** `n` bytes are in the read buffer; false stops reading until resume(). */
  read(upstream: RawUpstream, n: number): boolean;
  /** The server half-closed. */
  ended(upstream: RawUpstream): void;
  /** Every queued write is done after a write() that returned false. */
  drained(upstream: RawUpstream): void;
  closed(upstream: RawUpstream, hadError: boolean): void;
}

export class RawUpstream {
  private handle: TcpHandle | null;
  connecting = true;
  destroyed = false;
  writableEnded = false;
  private readEnded = false;
  private shutdownDone = false;
  private reading = false;
  private pending = 0;
  private needDrain = false;
  private hadError = false;

  constructor(
    private readonly b: RawBindings,
    readonly host: RawUpstreamHost,
    /** The session this belongs to; null once it has let go (a failed attempt). */
    public owner: object | null,
    readBuffer: Uint8Array,
  ) {
    const handle = new b.TCP(b.SOCKET);
    handle[OWNER] = this;
    handle.useUserBuffer(readBuffer);
    handle.onread = onRawRead;
    this.handle = handle;
  }

  /** Starts connecting; a non-zero libuv error means it never started (the caller destroys). */
  connect(address: string, port: number, ipv6: boolean): number {
    const req = new this.b.TCPConnectWrap();
    req.oncomplete = afterRawConnect;
    const handle = this.handle!;
    return ipv6 ? handle.connect6(req, address, port) : handle.connect(req, address, port);
  }

  /** False: the kernel's buffer is full and the chunk is queued; host.drained() follows. */
  write(chunk: Buffer): boolean {
    const handle = this.handle;
    if (handle === null || this.writableEnded || this.connecting) return false;
    const req = new this.b.WriteWrap();
    req.handle = handle;
    req.oncomplete = afterRawWrite;
    req.buffer = null;
    req.upstream = null;
    const err = handle.writeBuffer(req, chunk);
    if (err !== 0) {
      this.destroy(true);
      return false;
    }
    if (this.b.streamBaseState[this.b.kLastWriteWasAsync] === 0) return true;
    req.buffer = chunk;
    req.upstream = this;
    this.pending++;
    this.needDrain = true;
    return false;
  }

  /** Half-close once the queued writes are out (libuv's shutdown waits for them). */
  end(): void {
    const handle = this.handle;
    if (handle === null || this.writableEnded || this.destroyed) return;
    this.writableEnded = true;
    const req = new this.b.ShutdownWrap();
    req.handle = handle;
    req.oncomplete = afterRawShutdown;
    req.upstream = this;
    if (handle.shutdown(req) !== 0) this.destroy(true);
  }

  pause(): void {
    if (this.reading && this.handle !== null) {
      this.reading = false;
      this.handle.readStop();
    }
  }

  resume(): void {
    if (!this.reading && !this.readEnded && !this.connecting && this.handle !== null) {
      this.reading = true;
      if (this.handle.readStart() !== 0) this.destroy(true);
    }
  }

  destroy(hadError = false): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.hadError ||= hadError;
    const handle = this.handle;
    if (handle === null) return;
    // onread must stay a function (a native check); reads after this go nowhere.
    handle.onread = ignoreRead;
    handle.close(onRawClose);
  }

  /** Both directions are done: the server's FIN came and ours went out after every queued write. */
  maybeClose(): void {
    if (this.readEnded && this.shutdownDone && this.pending === 0) this.destroy(false);
  }

  /** Called from the read callback. */
  onRead(nread: number): void {
    if (this.destroyed) return;
    if (nread > 0) {
      if (!this.host.read(this, nread)) this.pause();
      return;
    }
    if (nread === 0) return;
    if (nread === this.b.UV_EOF) {
      this.readEnded = true;
      this.reading = false;
      this.host.ended(this);
      this.maybeClose();
      return;
    }
    this.destroy(true);
  }

  onConnect(status: number): void {
    if (this.destroyed) return;
    this.connecting = false;
    if (status !== 0) {
      this.host.connectFailed(this, getSystemErrorName(status));
      this.destroy(true);
      return;
    }
    const handle = this.handle!;
    handle.setNoDelay(true);
    handle.setKeepAlive(true, 0);
    this.reading = true;
    if (handle.readStart() !== 0) {
      this.destroy(true);
      return;
    }
    this.host.connected(this);
  }

  onWriteDone(status: number): void {
    this.pending--;
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy(true);
      return;
    }
    if (this.pending === 0) {
      if (this.needDrain) {
        this.needDrain = false;
        this.host.drained(this);
      }
      this.maybeClose();
    }
  }

  onShutdown(status: number): void {
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy(true);
      return;
    }
    this.shutdownDone = true;
    this.maybeClose();
  }

  onClose(): void {
    this.handle = null;
    this.host.closed(this, this.hadError);
  }
}

// Shared callbacks: libuv calls them with the handle or the request as `this`.

let readState: { state: Int32Array; index: number } | null = null;

function ignoreRead(): void {}

function onRawRead(this: TcpHandle): void {
  const upstream = this[OWNER];
  if (upstream != null) upstream.onRead(readState!.state[readState!.index]);
}

function afterRawConnect(status: number, handle: TcpHandle): void {
  handle[OWNER]?.onConnect(status);
}

function afterRawWrite(this: WriteReq, status: number): void {
  const upstream = this.upstream!;
  this.upstream = null;
  this.buffer = null;
  upstream.onWriteDone(status);
}

function afterRawShutdown(this: ShutdownReq, status: number): void {
  const upstream = this.upstream!;
  this.upstream = null;
  upstream.onShutdown(status);
}

function onRawClose(this: TcpHandle): void {
  const upstream = this[OWNER];
  this[OWNER] = null;
  upstream?.onClose();
}

/** The private bindings, or null when one is missing (then the public path is used). */
export function rawBindings(): RawBindings | null {
  try {
    const binding = process as unknown as { binding(name: string): Record<string, unknown> };
    const tcp = binding.binding('tcp_wrap') as {
      TCP: RawBindings['TCP'];
      TCPConnectWrap: RawBindings['TCPConnectWrap'];
      constants: { SOCKET: number };
    };
    const stream = binding.binding('stream_wrap') as Record<string, unknown>;
    const uv = binding.binding('uv') as { UV_EOF: number };
    const b: RawBindings = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      SOCKET: tcp.constants.SOCKET,
      WriteWrap: stream.WriteWrap as RawBindings['WriteWrap'],
      ShutdownWrap: stream.ShutdownWrap as RawBindings['ShutdownWrap'],
      streamBaseState: stream.streamBaseState as Int32Array,
      kReadBytesOrError: stream.kReadBytesOrError as number,
      kLastWriteWasAsync: stream.kLastWriteWasAsync as number,
      UV_EOF: uv.UV_EOF,
    };
    const ok =
      typeof b.TCP === 'function' &&
      typeof b.TCPConnectWrap === 'function' &&
      typeof b.SOCKET === 'number' &&
      typeof b.WriteWrap === 'function' &&
      typeof b.ShutdownWrap === 'function' &&
      b.streamBaseState instanceof Int32Array &&
      typeof b.kReadBytesOrError === 'number' &&
      typeof b.kLastWriteWasAsync === 'number' &&
      typeof b.UV_EOF === 'number';
    if (!ok) return null;
    readState = { state: b.streamBaseState, index: b.kReadBytesOrError };
    return b;
  } catch {
    return null;
  }
}

/**
 * Proves on loopback what the relay relies on: a raw upstream connects, writes, reads the answer into the
 * given buffer, half-closes (the server sees the FIN after the bytes), reads the server's FIN and closes
 * without error; and a connect to a closed port fails with ECONNREFUSED. Resolves null, or what failed.
 */
export async function selfTestRawUpstream(timeoutMs = 2000): Promise<string | null> {
  const b = rawBindings();
  if (b === null) return 'no usable tcp_wrap/stream_wrap bindings';
  const net = await import('node:net');
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    const got: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(got)));
  });
  const probe = Buffer.from('tether raw upstream self-test');
  const buffer = Buffer.alloc(64 * 1024);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve) =>
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve()),
    );
    const port = (server.address() as import('node:net').AddressInfo).port;
    return await new Promise<string | null>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      const echoed: Buffer[] = [];
      let ended = false;
      const host: RawUpstreamHost = {
        connected(u) {
          if (!u.write(probe)) return resolve('a small write was queued');
          u.end();
        },
        connectFailed: (_u, code) => resolve(`connect: ${code}`),
        read(_u, n) {
          echoed.push(Buffer.from(buffer.subarray(0, n)));
          return true;
        },
        ended() {
          ended = true;
        },
        drained() {},
        closed(_u, hadError) {
          if (hadError) return resolve('closed with an error');
          if (!ended) return resolve('closed before the FIN');
          if (!Buffer.concat(echoed).equals(probe)) return resolve('bytes differ');
          // Refused: a port nobody listens on (the server's, once closed).
          server.close(() => {
            const refused = new RawUpstream(
              b,
              {
                ...host,
                connected: () => resolve('connected to a closed port'),
                connectFailed: (_r, code) => resolve(code === 'ECONNREFUSED' ? null : `refused as ${code}`),
                closed: () => {},
              },
              {},
              buffer,
            );
            const err = refused.connect('127.0.0.1', port, false);
            if (err !== 0) resolve(`connect() -> ${getSystemErrorName(err)}`);
          });
        },
      };
      const upstream = new RawUpstream(b, host, {}, buffer);
      const err = upstream.connect('127.0.0.1', port, false);
      if (err !== 0) resolve(`connect() -> ${getSystemErrorName(err)}`);
    });
  } catch (error) {
    return String(error);
  } finally {
    clearTimeout(timer);
    if (server.listening) server.close();
  }
}
