// Child process of `npm run bench:capacity`: holds a share of the long connections (at most ~15,000 per
// process, under the 20,000-fd hard limit), each from one of the source addresses, and sends every
// connection a CMPP ACTIVE_TEST once per heartbeat interval, staggered over the interval, expecting
// ACTIVE_TEST_RESP with the same Sequence_Id. Counts what was established, dropped, sent and answered.
import net from 'node:net';
import {
  ACTIVE_TEST_RESP,
  ACTIVE_TEST_RESP_LENGTH,
  HEADER_LENGTH,
  MAX_FRAME_LENGTH,
  activeTest,
} from './cmpp.js';
import { announce, serve } from './ipc.js';

export interface CapacityOpenArgs {
  host: string;
  port: number;
  /** Global index of this process's first connection (decides its source addresses). */
  first: number;
  count: number;
  sources: string[];
  /** Connections being opened at once. */
  concurrency: number;
  timeoutMs: number;
}

export interface CapacityCounts {
  established: number;
  failed: number;
  /** Connections that closed while held (the proxy or a backend cut them). */
  dropped: number;
  heartbeatsSent: number;
  heartbeatsAnswered: number;
  /** Answers with a wrong command or Sequence_Id, or a frame that isn't CMPP. */
  badAnswers: number;
  /** Heartbeats still waiting for their answer. */
  outstanding: number;
  errors: Record<string, number>;
}

const counts: CapacityCounts = {
  established: 0,
  failed: 0,
  dropped: 0,
  heartbeatsSent: 0,
  heartbeatsAnswered: 0,
  badAnswers: 0,
  outstanding: 0,
  errors: {},
};

function countError(kind: string): void {
  counts.errors[kind] = (counts.errors[kind] ?? 0) + 1;
}

class Held {
  /** Sequence id of the heartbeat waiting for its answer, 0 when none. */
  waiting = 0;
  nextSeq = 1;
  pending: Buffer | null = null;
  closing = false;
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => countError(err.code ?? err.name));
    socket.on('close', () => {
      this.closed = true;
      if (this.waiting) counts.outstanding--;
      if (!this.closing) counts.dropped++;
    });
  }

  heartbeat(): void {
    if (this.closed || this.waiting) return; // one at a time: a late answer shows as outstanding
    const seq = this.nextSeq++;
    this.waiting = seq;
    counts.outstanding++;
    counts.heartbeatsSent++;
    this.socket.write(activeTest(seq)); // a fresh buffer per write: never reused while queued
  }

  private onData(chunk: Buffer): void {
    const input = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    while (input.length - offset >= HEADER_LENGTH) {
      const length = input.readUInt32BE(offset);
      if (length < HEADER_LENGTH || length > MAX_FRAME_LENGTH) {
        counts.badAnswers++;
        this.socket.destroy();
        return;
      }
      if (input.length - offset < length) break;
      const command = input.readUInt32BE(offset + 4);
      const seq = input.readUInt32BE(offset + 8);
      if (command === ACTIVE_TEST_RESP && length === ACTIVE_TEST_RESP_LENGTH && seq === this.waiting) {
        this.waiting = 0;
        counts.outstanding--;
        counts.heartbeatsAnswered++;
      } else counts.badAnswers++;
      offset += length;
    }
    this.pending = offset < input.length ? Buffer.from(input.subarray(offset)) : null;
  }
}

const held: Held[] = [];

function connectOne(args: CapacityOpenArgs, index: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({
      host: args.host,
      port: args.port,
      localAddress: args.sources[index % args.sources.length],
      noDelay: true,
    });
    const fail = (err: NodeJS.ErrnoException) => {
      counts.failed++;
      countError(err.code ?? err.name);
      socket.destroy();
      resolve();
    };
    socket.setTimeout(args.timeoutMs, () => fail(new Error('connect timeout')));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', fail);
      counts.established++;
      held.push(new Held(socket));
      resolve();
    });
  });
}

/** Opens `count` connections, `concurrency` at a time. */
async function open(args: CapacityOpenArgs): Promise<CapacityCounts> {
  let next = 0;
  const lane = async () => {
    while (next < args.count) await connectOne(args, args.first + next++);
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, args.count) }, lane));
  return snapshot();
}

// ---- heartbeats: one timer for the whole process, each tick sends to the connections whose slot is due ----

const TICK_MS = 100;
let ticker: NodeJS.Timeout | undefined;

function startHeartbeats(args: { intervalMs: number }): null {
  stopHeartbeats();
  const ticks = Math.max(1, Math.round(args.intervalMs / TICK_MS));
  let tick = 0;
  // Connection i beats on tick i % ticks: spread evenly over the interval.
  ticker = setInterval(() => {
    const slot = tick++ % ticks;
    for (let i = slot; i < held.length; i += ticks) held[i].heartbeat();
  }, TICK_MS);
  return null;
}

function stopHeartbeats(): null {
  if (ticker) clearInterval(ticker);
  ticker = undefined;
  return null;
}

/** Waits (bounded) until no heartbeat waits for its answer. */
async function settle(args: { timeoutMs: number }): Promise<CapacityCounts> {
  const deadline = Date.now() + args.timeoutMs;
  while (counts.outstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return snapshot();
}

function closeAll(): CapacityCounts {
  stopHeartbeats();
  for (const h of held) {
    h.closing = true;
    h.socket.destroy();
  }
  held.length = 0;
  return snapshot();
}

function snapshot(): CapacityCounts {
  return { ...counts, errors: { ...counts.errors } };
}

serve({
  open,
  startHeartbeats,
  stopHeartbeats,
  settle,
  counts: snapshot,
  closeAll,
});
announce({ pid: process.pid });
