// Child process: the load client. Every phase is bounded in count and time; the parent decides
// when the measured window starts (mark) and ends (loadClose) so it can read the proxy's CPU
// counters at the same moments.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ACTIVE_TEST_RESP,
  ACTIVE_TEST_RESP_LENGTH,
  HEADER_LENGTH,
  MAX_FRAME_LENGTH,
  SUBMIT_LENGTH,
  SUBMIT_RESP,
  activeTest,
  submitTemplate,
} from './cmpp.js';
import { Histogram, type SparseHistogram } from './histogram.js';
import { announce, describe, serve } from './ipc.js';

/** Where to connect: connection i goes to ports[i % ports.length] (direct mode spreads over the backends). */
export interface Target {
  host: string;
  ports: number[];
}

export interface LoadOpenArgs extends Target {
  connections: number;
  inflight: number;
  sources: string[];
  timeoutMs: number;
}

export interface LoadResult {
  messages: number;
  /** SUBMITs per client write(): how much batching the proxy's reads can get at most. */
  framesPerWrite: number;
  elapsedMs: number;
  histogram: SparseHistogram;
  max: number;
  errors: Record<string, number>;
}

export interface HoldArgs extends Target {
  connections: number;
  sources: string[];
  concurrency: number;
  timeoutMs: number;
}

export interface HoldResult {
  established: number;
  failed: number;
  elapsedMs: number;
  errors: Record<string, number>;
}

export interface ConnRateArgs extends Target {
  loops: number;
  durationMs: number;
  maxConnections: number;
  sources: string[];
}

export interface ConnRateResult {
  completed: number;
  attempts: number;
  elapsedMs: number;
  histogram: SparseHistogram;
  max: number;
  errors: Record<string, number>;
}

const template = submitTemplate();
const SEQ_RING = 64; // > any window we use: send times indexed by sequence id

// ---- sustained load: N connections, W SUBMITs in flight each ----

const histogram = new Histogram();
let errors: Record<string, number> = {};
let messages = 0;
let writes = 0;
let framesWritten = 0;
let markedAt = 0;
let running = false;
let loadSockets: LoadConnection[] = [];

function countError(kind: string): void {
  errors[kind] = (errors[kind] ?? 0) + 1;
}

class LoadConnection {
  readonly sentAt = new Float64Array(SEQ_RING);
  nextSeq = 1;
  expectSeq = 1;
  pending: Buffer | null = null;
  closed = false;

  constructor(
    readonly socket: net.Socket,
    readonly inflight: number,
  ) {}

  send(n: number): void {
    const batch = Buffer.allocUnsafe(n * SUBMIT_LENGTH);
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      const at = i * SUBMIT_LENGTH;
      template.copy(batch, at);
      const seq = this.nextSeq++ >>> 0;
      batch.writeUInt32BE(seq, at + 8);
      this.sentAt[seq % SEQ_RING] = now;
    }
    this.socket.write(batch);
    writes++;
    framesWritten += n;
  }

  onData(chunk: Buffer): void {
    const now = performance.now();
    const input = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    let answered = 0;
    while (input.length - offset >= HEADER_LENGTH) {
      const length = input.readUInt32BE(offset);
      if (length < HEADER_LENGTH || length > MAX_FRAME_LENGTH) {
        countError('bad frame length');
        this.socket.destroy();
        return;
      }
      if (input.length - offset < length) break;
      const command = input.readUInt32BE(offset + 4);
      const seq = input.readUInt32BE(offset + 8);
      if (command !== SUBMIT_RESP) countError('unexpected command');
      else if (seq !== this.expectSeq >>> 0) countError('sequence out of order');
      else {
        histogram.record((now - this.sentAt[seq % SEQ_RING]) * 1000);
        messages++;
      }
      this.expectSeq++;
      answered++;
      offset += length;
    }
    this.pending = offset < input.length ? Buffer.from(input.subarray(offset)) : null;
    if (running && answered > 0) this.send(answered);
  }
}

async function loadOpen(args: LoadOpenArgs): Promise<{ connected: number; ms: number }> {
  if (loadSockets.length > 0) throw new Error('a load phase is already open');
  errors = {};
  histogram.reset();
  messages = 0;
  running = true;
  const started = performance.now();
  const connect = (i: number) =>
    new Promise<LoadConnection>((resolve, reject) => {
      const socket = net.connect({
        host: args.host,
        port: args.ports[i % args.ports.length],
        localAddress: args.sources[i % args.sources.length],
        noDelay: true,
      });
      const conn = new LoadConnection(socket, args.inflight);
      socket.once('connect', () => {
        conn.send(args.inflight);
        resolve(conn);
      });
      socket.on('data', (chunk: Buffer) => conn.onData(chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        countError(err.code ?? err.message);
        reject(err);
      });
      socket.on('close', () => {
        conn.closed = true;
        if (running) countError('closed during load');
      });
    });
  const all = Promise.all(Array.from({ length: args.connections }, (_, i) => connect(i)));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`connections not open after ${args.timeoutMs} ms`)),
      args.timeoutMs,
    );
  });
  try {
    loadSockets = await Promise.race([all, timeout]);
  } catch (err) {
    running = false;
    all.then((conns) => conns.forEach((c) => c.socket.destroy())).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { connected: loadSockets.length, ms: performance.now() - started };
}

function mark(): null {
  histogram.reset();
  messages = 0;
  writes = 0;
  framesWritten = 0;
  errors = {};
  markedAt = performance.now();
  return null;
}

async function loadClose(): Promise<LoadResult> {
  const result: LoadResult = {
    messages,
    framesPerWrite: writes > 0 ? framesWritten / writes : 0,
    elapsedMs: performance.now() - markedAt,
    histogram: histogram.toSparse(),
    max: histogram.max,
    errors: { ...errors },
  };
  running = false;
  const sockets = loadSockets;
  loadSockets = [];
  await closeAll(sockets.map((c) => c.socket));
  return result;
}

// ---- idle connections held open ----

let held: net.Socket[] = [];

async function holdOpen(args: HoldArgs): Promise<HoldResult> {
  if (held.length > 0) throw new Error('connections are already held');
  const started = performance.now();
  const deadline = started + args.timeoutMs;
  const holdErrors: Record<string, number> = {};
  let established = 0;
  let failed = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    let active = 0;
    const launch = (): void => {
      while (active < args.concurrency && next < args.connections && performance.now() < deadline) {
        const i = next++;
        active++;
        openIdle(args, i)
          .then(
            (socket) => {
              held.push(socket);
              established++;
            },
            (err: unknown) => {
              failed++;
              const kind = describe(err);
              holdErrors[kind] = (holdErrors[kind] ?? 0) + 1;
            },
          )
          .finally(() => {
            active--;
            if (active === 0 && (next >= args.connections || performance.now() >= deadline)) resolve();
            else launch();
          });
      }
    };
    launch();
  });
  return { established, failed, elapsedMs: performance.now() - started, errors: holdErrors };
}

/** Connects and does one ACTIVE_TEST round trip, so both legs of the proxy are up and have carried bytes. */
function openIdle(target: HoldArgs, i: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: target.host,
      port: target.ports[i % target.ports.length],
      localAddress: target.sources[i % target.sources.length],
      noDelay: true,
    });
    let received: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no ACTIVE_TEST_RESP within 10 s'));
    }, 10_000);
    socket.once('connect', () => socket.write(activeTest(i + 1)));
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < ACTIVE_TEST_RESP_LENGTH) return;
      clearTimeout(timer);
      socket.off('data', onData);
      if (received.readUInt32BE(4) !== ACTIVE_TEST_RESP || received.readUInt32BE(8) !== i + 1) {
        socket.destroy();
        return reject(new Error('bad ACTIVE_TEST_RESP'));
      }
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before ACTIVE_TEST_RESP'));
    });
  });
}

async function holdStatus(): Promise<{ open: number }> {
  return { open: held.filter((s) => !s.destroyed && s.readyState === 'open').length };
}

async function holdClose(): Promise<{ closed: number }> {
  const sockets = held;
  held = [];
  await closeAll(sockets);
  return { closed: sockets.length };
}

// ---- new connections per second: connect, one SUBMIT round trip, close ----

async function connRate(args: ConnRateArgs): Promise<ConnRateResult> {
  const latency = new Histogram();
  const rateErrors: Record<string, number> = {};
  const count = (kind: string) => (rateErrors[kind] = (rateErrors[kind] ?? 0) + 1);
  let attempts = 0;
  let completed = 0;
  const started = performance.now();
  const deadline = started + args.durationMs;
  const submit = Buffer.from(template);

  const loop = (resolve: () => void): void => {
    if (performance.now() >= deadline || attempts >= args.maxConnections) return resolve();
    const i = attempts++;
    const t0 = performance.now();
    let answered = false;
    let received: Buffer = Buffer.alloc(0);
    const socket = net.connect({
      host: args.host,
      port: args.ports[i % args.ports.length],
      localAddress: args.sources[i % args.sources.length],
      noDelay: true,
    });
    socket.setTimeout(10_000, () => {
      count('no answer within 10 s');
      socket.destroy();
    });
    socket.once('connect', () => {
      const frame = Buffer.from(submit);
      frame.writeUInt32BE(i + 1, 8);
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      if (answered || received.length < HEADER_LENGTH) return;
      const length = received.readUInt32BE(0);
      if (received.length < length) return;
      if (received.readUInt32BE(4) !== SUBMIT_RESP || received.readUInt32BE(8) !== i + 1)
        count('bad SUBMIT_RESP');
      else {
        answered = true;
        completed++;
        latency.record((performance.now() - t0) * 1000);
      }
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => count(err.code ?? err.message));
    socket.on('close', () => {
      if (!answered) count('closed before SUBMIT_RESP');
      loop(resolve);
    });
  };

  await Promise.all(Array.from({ length: args.loops }, () => new Promise<void>((resolve) => loop(resolve))));
  return {
    completed,
    attempts,
    elapsedMs: performance.now() - started,
    histogram: latency.toSparse(),
    max: latency.max,
    errors: rateErrors,
  };
}

// ---- shared ----

async function closeAll(sockets: net.Socket[]): Promise<void> {
  const closed = sockets.map(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  );
  await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

serve({ loadOpen, mark, loadClose, holdOpen, holdStatus, holdClose, connRate });
announce({});
