// Loopback building blocks for runtime tests: servers, clients, snapshot builders, polling.
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net, { type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import {
  DEFAULT_DEFAULTS,
  type Backend,
  type Frontend,
  type Server,
  type Snapshot,
} from '../../src/schema/snapshot.js';

export interface TestServer {
  server: NetServer;
  port: number;
  /** Sockets accepted so far (closed ones included). */
  accepted: Socket[];
  close(): Promise<void>;
}

/** A loopback server; `onSocket` decides what it does with each connection. */
export async function listen(
  onSocket: (socket: Socket) => void = () => {},
  host = '127.0.0.1',
): Promise<TestServer> {
  const accepted: Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of accepted) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes everything; ends its side when the client ends. */
export function echo(socket: Socket): void {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('end', () => socket.end());
}

/** Answers each connection with its name first, then echoes. */
export function named(name: string): (socket: Socket) => void {
  return (socket) => {
    socket.write(`${name}\n`);
    echo(socket);
  };
}

export async function connect(
  port: number,
  options: { host?: string; localAddress?: string } = {},
): Promise<Socket> {
  const socket = net.connect({
    host: options.host ?? '127.0.0.1',
    port,
    localAddress: options.localAddress,
    allowHalfOpen: true,
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** Reads until `n` bytes arrived (or the socket ends/closes). */
export function readBytes(socket: Socket, n: number, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= n) done();
    };
    const onClose = () => done();
    const timer = setTimeout(() => done(new Error(`timeout: ${have}/${n} bytes`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Reads one line (the name a `named` server sends). */
export async function readLine(socket: Socket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => finish(new Error(`timeout reading line (got "${text}")`)), timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) reject(error);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl !== -1) {
        finish();
        const rest = text.slice(nl + 1);
        if (rest.length > 0) socket.unshift(Buffer.from(rest, 'latin1'));
        resolve(text.slice(0, nl));
      }
    };
    const onClose = () => finish(new Error(`closed before a line (got "${text}")`));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Resolves when the peer has closed its side (end or close); with whatever arrived meanwhile. */
export function closed(socket: Socket, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    if (socket.destroyed || socket.readableEnded) return resolve(Buffer.alloc(0));
    const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    const done = () => {
      clearTimeout(timer);
      socket.end();
      resolve(Buffer.concat(chunks));
    };
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Polls `predicate` until it returns a truthy value, and resolves with that value; fails after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Positive evidence that the event loop has polled sockets several times since the call, however
 * slow the machine: a fresh loopback echo server accepts a client that connects now, and a byte makes
 * the round trip. Use it instead of "nothing happened in N ms": a socket that was ready before this
 * call and would have been served by a polled listener has been served by the time this resolves.
 */
export async function loopBarrier(): Promise<void> {
  const barrier = await listen(echo);
  try {
    const client = await connect(barrier.port);
    client.write('b');
    await readBytes(client, 1);
    client.destroy();
  } finally {
    await barrier.close();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Ports freePort() handed out lately in this process (bounded): the kernel may offer one twice in a row. */
const recentPorts: number[] = [];
const RECENT_PORTS = 256;

/**
 * A port that was free a moment ago (for processes that can't bind port 0, and for refused connections), never
 * one this process was handed among its last RECENT_PORTS: two calls for two listeners get two ports.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0 }, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (recentPorts.includes(port)) continue;
    recentPorts.push(port);
    if (recentPorts.length > RECENT_PORTS) recentPorts.shift();
    return port;
  }
  throw new Error('freePort: the kernel offered only recently handed-out ports in 20 tries');
}

/** Another socket holding 127.0.0.1:port, as another program would; close() frees it (once, however often called). */
export async function holdPort(port: number): Promise<{ close(): Promise<void> }> {
  const squatter = net.createServer();
  squatter.listen({ host: '127.0.0.1', port });
  await once(squatter, 'listening');
  let open = true;
  const close = () =>
    open
      ? ((open = false), new Promise<void>((resolve) => squatter.close(() => resolve())))
      : Promise.resolve();
  return { close };
}

export function server(name: string, port: number, overrides: Partial<Server> = {}): Server {
  return { name, address: '127.0.0.1', port, weight: 1, backup: false, check: false, ...overrides };
}

export function backend(name: string, servers: Server[], overrides: Partial<Backend> = {}): Backend {
  return {
    name,
    balance: 'roundrobin',
    hashType: 'consistent',
    check: { type: 'none', inter: 5000, fall: 3, rise: 2 },
    sendProxy: 'none',
    onMarkedDown: 'keep',
    servers,
    ...overrides,
  };
}

export function frontend(
  name: string,
  port: number,
  backendName: string,
  overrides: Partial<Frontend> = {},
): Frontend {
  const f = { name, bind: { address: '127.0.0.1', port }, backend: backendName, enabled: true, ...overrides };
  // `bind` is the first of `binds`: an override of either fills the other.
  const binds = overrides.binds ?? [f.bind];
  return { ...f, bind: overrides.bind ?? binds[0], binds };
}

export function snapshot(
  frontends: Frontend[],
  backends: Backend[],
  defaults: Partial<Snapshot['defaults']> = {},
): Snapshot {
  return {
    defaults: { ...structuredClone(DEFAULT_DEFAULTS), ...defaults },
    frontends,
    backends,
  };
}

interface RawTcp {
  bind(address: string, port: number): number;
  open(fd: number): number;
  listen(backlog: number): number;
  readStart(): number;
  readStop(): number;
  getsockname(out: { port?: number }): number;
  close(): void;
  fd: number;
  onconnection: unknown;
}

/**
 * A port that completes no handshake: a listening socket that is never polled, with its tiny accept
 * queue filled, so further SYNs are dropped and connects time out (like a dead host, on loopback).
 */
export async function blackhole(): Promise<{ port: number; close(): void }> {
  const binding = (
    process as unknown as {
      binding(name: string): { TCP: new (t: number) => RawTcp; constants: { SERVER: number } };
    }
  ).binding('tcp_wrap');
  const handle = new binding.TCP(binding.constants.SERVER);
  if (handle.bind('127.0.0.1', 0) !== 0) throw new Error('bind failed');
  handle.open(handle.fd);
  handle.onconnection = () => {};
  if (handle.listen(0) !== 0) throw new Error('listen failed');
  handle.readStart();
  handle.readStop();
  const out: { port?: number } = {};
  handle.getsockname(out);
  const port = out.port!;
  // Fill the accept queue (backlog 0 still admits one or two).
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
  }
  await sleep(100);
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      handle.close();
    },
  };
}

/**
 * Whether process `pid` itself holds a listening TCP socket on `port` (Linux /proc): unlike a connect, not fooled
 * by another test file that happens to listen on a port this one freed.
 */
export function processListensOn(pid: number, port: number): boolean {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; state 0A is LISTEN; the inode is the 10th field.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return false;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1])) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}
