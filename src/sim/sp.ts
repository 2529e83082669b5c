// A CMPP SP (client) simulator: logs in on N connections, submits at a rate with a sliding window,
// answers DELIVER and ACTIVE_TEST, resends unanswered SUBMITs (after `resendMs`, and on its next
// connection when one closes, as real clients do) and counts sent/acknowledged/latency.
import net from 'node:net';
import { FrameAssembler } from '../cmpp/assembler.js';
import { cmppTimestamp } from '../cmpp/auth.js';
import {
  CmppDecodeError,
  decodeFrame,
  encodeActiveTest,
  encodeActiveTestResp,
  encodeConnect,
  encodeDeliverResp,
  encodeSubmit,
  encodeTerminate,
  encodeTerminateResp,
} from '../cmpp/codec.js';
import { type CmppVersion, RESULT_THROTTLED } from '../cmpp/commands.js';
import { LatencyHistogram } from './latency.js';

export interface SpOptions {
  host: string;
  port: number;
  account: string;
  secret: string;
  version?: CmppVersion;
  /** SUBMITs per second over all connections. */
  rate: number;
  /** Unanswered SUBMITs per connection (the spec's W = 16). */
  window: number;
  connections?: number;
  /** Local address to connect from (a 127.0.0.X to look like another client). */
  localAddress?: string;
  /** Ask for status reports (default true). */
  reports?: boolean;
  /** Resend a SUBMIT unanswered this long (default 60 s, the spec's T); at most `maxSends` sends in all. */
  resendMs?: number;
  maxSends?: number;
  /** Wait before reconnecting after a close or a refused login (default 1 s, what client libraries do). */
  reconnectMs?: number;
  /** Stop generating after this many messages (default: never). */
  total?: number;
  /** ACTIVE_TEST after this much idle time (default 30 s). */
  heartbeatMs?: number;
}

export interface SpCounters {
  /** SUBMIT frames written, resends included, and resends alone. */
  sent: number;
  resent: number;
  /** SUBMIT_RESP result 0; result 8; any other result. */
  acked: number;
  throttled: number;
  failed: number;
  /** Messages given up after maxSends. */
  expired: number;
  /** SUBMIT_RESPs (result 0) for a message already acknowledged: what a duplicate looks like from the SP. */
  duplicateAcks: number;
  /** TERMINATEs received from the other side (each ends a connection; the SP reconnects). */
  terminated: number;
  reports: number;
  delivers: number;
  logins: number;
  loginFailures: Record<number, number>;
  /** Logged-in connections now, unanswered SUBMITs now, messages waiting for a connection. */
  connected: number;
  outstanding: number;
  queued: number;
}

export interface SpSim {
  counters(): SpCounters;
  /** Latency percentiles (ms) since the last call (`interval`) or since start. */
  latency(interval?: boolean): { p50: number; p99: number; count: number };
  /** Stops submitting, waits (bounded) for answers, TERMINATEs and closes every connection. */
  stop(): Promise<void>;
}

interface Message {
  id: number;
  frame?: Buffer;
  sends: number;
  /** Acknowledged (result 0) already. */
  acked?: boolean;
}

interface Pending {
  message: Message;
  sentAt: number;
  frame: Buffer;
}

/** Throttled messages and those of closed connections wait here; bounded so a dead gateway can't grow it. */
const MAX_QUEUED = 100_000;
const TICK_MS = 10;

class SpConnection {
  socket: net.Socket | undefined;
  loggedIn = false;
  version: CmppVersion;
  seq = 0;
  lastSentAt = 0;
  readonly outstanding = new Map<number, Pending>();
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly sp: SpRunner) {
    this.version = sp.options.version ?? '3.0';
  }

  nextSeq(): number {
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  open(): void {
    if (this.sp.stopping) return;
    const o = this.sp.options;
    const socket = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress });
    this.socket = socket;
    socket.setNoDelay(true);
    const frames = new FrameAssembler();
    socket.on('connect', () => {
      this.write(
        encodeConnect({
          sequenceId: this.nextSeq(),
          account: o.account,
          secret: o.secret,
          timestamp: cmppTimestamp(),
          version: this.version,
        }),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (!frames.push(chunk, (frame) => this.onFrame(frame))) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => this.closed());
  }

  write(frame: Buffer): void {
    this.lastSentAt = Date.now();
    // After a TERMINATE the connection only reads the answers still owed to it (a write would end it now).
    if (this.socket !== undefined && !this.socket.writableEnded) this.socket.write(frame);
  }

  private closed(): void {
    this.socket = undefined;
    if (this.loggedIn) this.sp.c.connected--;
    this.loggedIn = false;
    // Unanswered SUBMITs go out again first on the next connection.
    for (const p of this.outstanding.values()) this.sp.requeue(p.message, true);
    this.outstanding.clear();
    if (!this.sp.stopping) {
      this.retry = setTimeout(() => this.open(), this.sp.options.reconnectMs ?? 1000);
      this.retry.unref();
    }
  }

  cancelRetry(): void {
    if (this.retry) clearTimeout(this.retry);
  }

  private onFrame(raw: Buffer): void {
    let frame;
    try {
      frame = decodeFrame(raw, 0, this.version);
    } catch (err) {
      if (!(err instanceof CmppDecodeError)) throw err;
      return; // a body we can't read (e.g. an unusual DELIVER): ignored, as lenient clients do
    }
    const c = this.sp.c;
    switch (frame.command) {
      case 'CONNECT_RESP':
        if (frame.status === 0) {
          this.loggedIn = true;
          this.version = frame.layout;
          c.logins++;
          c.connected++;
        } else {
          c.loginFailures[frame.status] = (c.loginFailures[frame.status] ?? 0) + 1;
          this.socket?.destroy();
        }
        return;
      case 'SUBMIT_RESP': {
        const p = this.outstanding.get(frame.sequenceId);
        if (!p) return;
        this.outstanding.delete(frame.sequenceId);
        if (frame.result === 0) {
          if (p.message.acked) c.duplicateAcks++;
          p.message.acked = true;
          c.acked++;
          this.sp.latencyAll.record(performance.now() - p.sentAt);
          this.sp.latencyInterval.record(performance.now() - p.sentAt);
        } else if (frame.result === RESULT_THROTTLED) {
          c.throttled++;
          this.sp.requeue(p.message, false);
        } else {
          c.failed++;
        }
        return;
      }
      case 'DELIVER':
        c.delivers++;
        if (frame.registeredDelivery === 1) c.reports++;
        this.write(
          encodeDeliverResp({
            sequenceId: frame.sequenceId,
            msgId: frame.msgId,
            result: 0,
            version: this.version,
          }),
        );
        return;
      case 'ACTIVE_TEST':
        this.write(encodeActiveTestResp(frame.sequenceId));
        return;
      case 'TERMINATE':
        // As real clients: answer, send no more requests, keep reading the answers still owed until the other
        // side closes; unanswered SUBMITs go out again on the next connection.
        c.terminated++;
        if (this.loggedIn) c.connected--;
        this.loggedIn = false;
        this.socket?.end(encodeTerminateResp(frame.sequenceId));
        return;
      default:
        return;
    }
  }

  /** Resends what waited too long on this connection; gives up after maxSends. */
  resendOverdue(now: number): void {
    const o = this.sp.options;
    const after = o.resendMs ?? 60_000;
    for (const [seq, p] of this.outstanding) {
      if (now - p.sentAt < after) continue;
      if (p.message.sends >= (o.maxSends ?? 3)) {
        this.outstanding.delete(seq);
        this.sp.c.expired++;
        continue;
      }
      p.message.sends++;
      p.sentAt = now;
      this.sp.c.sent++;
      this.sp.c.resent++;
      this.write(p.frame);
    }
  }

  submit(message: Message): void {
    const o = this.sp.options;
    const seq = this.nextSeq();
    const frame = encodeSubmit({
      sequenceId: seq,
      version: this.version,
      account: o.account,
      srcId: '10658000',
      recipients: [`138${String(message.id % 100_000_000).padStart(8, '0')}`],
      content: Buffer.from(`tether sim message ${message.id}`),
      registeredDelivery: o.reports === false ? 0 : 1,
    });
    if (message.sends > 0) this.sp.c.resent++;
    message.sends++;
    this.sp.c.sent++;
    this.outstanding.set(seq, { message, sentAt: performance.now(), frame });
    this.write(frame);
  }
}

class SpRunner implements SpSim {
  readonly c: SpCounters = {
    sent: 0,
    resent: 0,
    acked: 0,
    throttled: 0,
    failed: 0,
    expired: 0,
    duplicateAcks: 0,
    terminated: 0,
    reports: 0,
    delivers: 0,
    logins: 0,
    loginFailures: {},
    connected: 0,
    outstanding: 0,
    queued: 0,
  };
  readonly latencyAll = new LatencyHistogram();
  readonly latencyInterval = new LatencyHistogram();
  readonly connections: SpConnection[] = [];
  stopping = false;
  private readonly queue: Message[] = [];
  private generated = 0;
  private budget = 0;
  private lastTick = performance.now();
  private readonly ticker: NodeJS.Timeout;
  private next = 0;

  constructor(readonly options: SpOptions) {
    for (let i = 0; i < (options.connections ?? 1); i++) this.connections.push(new SpConnection(this));
    for (const conn of this.connections) conn.open();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  requeue(message: Message, first: boolean): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.c.expired++;
      return;
    }
    if (first) this.queue.unshift(message);
    else this.queue.push(message);
  }

  private nextMessage(): Message | undefined {
    const queued = this.queue.shift();
    if (queued) return queued;
    if (this.stopping || (this.options.total !== undefined && this.generated >= this.options.total))
      return undefined;
    return { id: ++this.generated, sends: 0 };
  }

  private tick(): void {
    const now = performance.now();
    const rate = this.options.rate;
    // A budget of at most a tenth of a second of sends, so a stall doesn't turn into a burst.
    this.budget = Math.min(this.budget + ((now - this.lastTick) * rate) / 1000, Math.max(1, rate / 10));
    this.lastTick = now;
    const wall = Date.now();
    for (const conn of this.connections) {
      if (!conn.loggedIn) continue;
      conn.resendOverdue(now);
      if (wall - conn.lastSentAt >= (this.options.heartbeatMs ?? 30_000))
        conn.write(encodeActiveTest(conn.nextSeq()));
    }
    // Round-robin over connections with room in their window.
    let idle = 0;
    while (this.budget >= 1 && idle < this.connections.length) {
      const conn = this.connections[this.next++ % this.connections.length];
      if (!conn.loggedIn || conn.outstanding.size >= this.options.window) {
        idle++;
        continue;
      }
      const message = this.nextMessage();
      if (!message) break;
      idle = 0;
      this.budget--;
      conn.submit(message);
    }
  }

  counters(): SpCounters {
    let outstanding = 0;
    for (const conn of this.connections) outstanding += conn.outstanding.size;
    return { ...this.c, loginFailures: { ...this.c.loginFailures }, outstanding, queued: this.queue.length };
  }

  latency(interval = false): { p50: number; p99: number; count: number } {
    const h = interval ? this.latencyInterval : this.latencyAll;
    const out = { p50: h.percentile(0.5), p99: h.percentile(0.99), count: h.count };
    if (interval) h.reset();
    return out;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && this.connections.some((c) => c.loggedIn && c.outstanding.size > 0)) {
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    clearInterval(this.ticker);
    await Promise.all(
      this.connections.map(async (conn) => {
        conn.cancelRetry();
        const socket = conn.socket;
        if (!socket) return;
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        if (conn.loggedIn) conn.write(encodeTerminate(conn.nextSeq()));
        else socket.destroy();
        const timer = setTimeout(() => socket.destroy(), 1000);
        await closed;
        clearTimeout(timer);
      }),
    );
  }
}

export function startSp(options: SpOptions): SpSim {
  if (!(options.rate > 0) || !(options.window >= 1)) throw new RangeError('rate and window must be positive');
  return new SpRunner(options);
}
