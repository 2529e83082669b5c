// A CMPP gateway (ISMG) simulator for demos, tests and benchmarks: authenticates accounts, caps
// connections per account (status 5), answers SUBMIT (result 8 above an optional rate per account),
// sends status reports as DELIVERs, answers and sends ACTIVE_TEST, and counts what it saw.
import net from 'node:net';
import { authenticatorIsmg, authenticatorSource } from '../cmpp/auth.js';
import {
  CmppDecodeError,
  decodeFrame,
  encodeActiveTest,
  encodeActiveTestResp,
  encodeConnectResp,
  encodeDeliver,
  encodeStatusReport,
  encodeSubmitResp,
  encodeTerminate,
  encodeTerminateResp,
} from '../cmpp/codec.js';
import { type CmppVersion, CommandId, versionByte, versionOfByte } from '../cmpp/commands.js';
import { FrameAssembler, SequenceCounter } from '../cmpp/assembler.js';

export interface GatewayAccount {
  account: string;
  secret: string;
  /** Connections at once for this account (default 4); one more is refused with status 5. */
  maxConnections?: number;
  /** Source IPs allowed for this account (default any); others get status 2. */
  allowedIps?: string[];
  /** Refuse every login of this account with this status (tests, demos). */
  status?: number;
}

export interface GatewayOptions {
  /** Ports to listen on (0 = any free port); one gateway node per port, each with its own counters. */
  ports: number[];
  host?: string;
  accounts: GatewayAccount[];
  /** The gateway's version: a client asking for more gets status 4; a lower one is answered in its own. */
  version?: CmppVersion;
  /** SUBMITs per second per account and node before answering result 8 (0 = no limit). */
  throttle?: number;
  /** Send a status report DELIVER for SUBMITs that ask for one (default true). */
  reports?: boolean;
  /** ACTIVE_TEST after this much idle time on a connection (default 30 s; 0 = never). */
  activeTestMs?: number;
  /** Write a wrong AuthenticatorISMG on successful logins (as some real servers do). */
  wrongAuthenticator?: boolean;
  /**
   * Record every SUBMIT received, by account and content (tests: did a message reach a gateway twice?). At most
   * MAX_RECORDED distinct messages per gateway; past it `recordOverflow` says so.
   */
  record?: boolean;
  /** Never answer SUBMITs (nor TERMINATE): a stuck gateway. */
  silent?: boolean;
  /** Answer each SUBMIT (and send its report) this long after it came (default 0: at once). */
  answerDelayMs?: number;
}

/** The most distinct SUBMITs a recording gateway keeps. */
export const MAX_RECORDED = 1_000_000;

export interface NodeCounters {
  port: number;
  /** Connections accepted in all, and open now. */
  connections: number;
  open: number;
  /** CONNECT_RESP statuses sent, by status. */
  logins: Record<number, number>;
  submits: number;
  throttled: number;
  reportsSent: number;
  reportsAcked: number;
  activeTests: number;
  /** ACTIVE_TEST_RESPs received: the gateway's own heartbeats (sent after `activeTestMs` idle) answered. */
  activeTestsAnswered: number;
  /** TERMINATEs received from clients. */
  terminates: number;
  /** Times a client that didn't read its answers made the gateway stop reading from it. */
  pausedReads: number;
}

export interface GatewaySim {
  ports: number[];
  counters(): NodeCounters[];
  /** With `record`: SUBMITs received by all nodes, "account:content" -> times received. */
  recorded(): Map<string, number>;
  /** With `record`: more than MAX_RECORDED distinct messages came (the rest were not recorded). */
  recordOverflow(): boolean;
  close(): Promise<void>;
}

export const DEFAULT_ACCOUNTS: GatewayAccount[] = [
  { account: '901234', secret: 's' },
  { account: '901235', secret: 's' },
  { account: '901236', secret: 's' },
];

interface Conn {
  socket: net.Socket;
  node: GatewayNode;
  account?: GatewayAccount;
  version: CmppVersion;
  seq: SequenceCounter;
  lastActiveAt: number;
  timer?: NodeJS.Timeout;
}

class GatewayNode {
  readonly counters: NodeCounters;
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  /** Logged-in connections per account. */
  readonly perAccount = new Map<string, number>();
  /** Throttle window: the second and the SUBMITs per account in it. */
  private windowSecond = 0;
  private readonly windowCounts = new Map<string, number>();
  private msgCounter = 0;

  constructor(
    readonly gateway: GatewayRunner,
    port: number,
  ) {
    this.counters = {
      port,
      connections: 0,
      open: 0,
      logins: {},
      submits: 0,
      throttled: 0,
      reportsSent: 0,
      reportsAcked: 0,
      activeTests: 0,
      activeTestsAnswered: 0,
      terminates: 0,
      pausedReads: 0,
    };
    this.server = net.createServer((socket) => this.accept(socket));
  }

  nextMsgId(): Buffer {
    const id = Buffer.alloc(8);
    id.writeUInt16BE(this.counters.port & 0xffff, 0);
    id.writeUIntBE(++this.msgCounter % 2 ** 48, 2, 6);
    return id;
  }

  overRate(account: string): boolean {
    const limit = this.gateway.options.throttle ?? 0;
    if (limit <= 0) return false;
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.windowSecond) {
      this.windowSecond = second;
      this.windowCounts.clear();
    }
    const n = (this.windowCounts.get(account) ?? 0) + 1;
    this.windowCounts.set(account, n);
    return n > limit;
  }

  private accept(socket: net.Socket): void {
    this.counters.connections++;
    this.counters.open++;
    this.sockets.add(socket);
    const conn: Conn = {
      socket,
      node: this,
      version: this.gateway.options.version ?? '3.0',
      seq: new SequenceCounter(),
      lastActiveAt: Date.now(),
    };
    const frames = new FrameAssembler();
    const idleMs = this.gateway.options.activeTestMs ?? 30_000;
    if (idleMs > 0) {
      conn.timer = setInterval(
        () => {
          if (Date.now() - conn.lastActiveAt >= idleMs && conn.account) {
            send(conn, encodeActiveTest(conn.seq.next()));
            conn.lastActiveAt = Date.now();
          }
        },
        Math.min(idleMs, 1000),
      );
      conn.timer.unref();
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      conn.lastActiveAt = Date.now();
      const ok = frames.push(chunk, (frame) => this.onFrame(conn, frame));
      if (!ok) socket.destroy(); // not CMPP
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (conn.timer) clearInterval(conn.timer);
      this.counters.open--;
      this.sockets.delete(socket);
      if (conn.account) {
        const left = (this.perAccount.get(conn.account.account) ?? 1) - 1;
        if (left > 0) this.perAccount.set(conn.account.account, left);
        else this.perAccount.delete(conn.account.account);
      }
    });
  }

  private onFrame(conn: Conn, raw: Buffer): void {
    const { socket } = conn;
    let frame;
    try {
      frame = decodeFrame(raw, 0, conn.version);
    } catch (err) {
      if (!(err instanceof CmppDecodeError)) throw err;
      // A malformed CONNECT is answered with status 1; anything else malformed ends the session.
      if (raw.readUInt32BE(4) === CommandId.CONNECT) this.refuse(conn, raw.readUInt32BE(8), 1, conn.version);
      else this.terminate(conn);
      return;
    }
    switch (frame.command) {
      case 'CONNECT':
        return this.login(
          conn,
          frame.sequenceId,
          frame.account,
          frame.authenticator,
          frame.version,
          frame.timestamp,
        );
      case 'SUBMIT': {
        if (!conn.account) return this.terminate(conn);
        this.counters.submits++;
        if (this.gateway.options.record) this.gateway.record(conn.account.account, frame.content);
        if (this.gateway.options.silent) return;
        const throttled = this.overRate(conn.account.account);
        if (throttled) this.counters.throttled++;
        const msgId = this.nextMsgId();
        const answer = () => {
          if (socket.destroyed || socket.writableEnded) return;
          send(
            conn,
            encodeSubmitResp({
              sequenceId: frame.sequenceId,
              msgId,
              result: throttled ? 8 : 0,
              version: conn.version,
            }),
          );
          if (!throttled && frame.registeredDelivery === 1 && this.gateway.options.reports !== false) {
            this.sendReport(conn, msgId, frame.recipients[0] ?? '');
          }
        };
        const delay = this.gateway.options.answerDelayMs ?? 0;
        if (delay > 0) setTimeout(answer, delay).unref();
        else answer();
        return;
      }
      case 'DELIVER_RESP':
        this.counters.reportsAcked++;
        return;
      case 'ACTIVE_TEST':
        this.counters.activeTests++;
        send(conn, encodeActiveTestResp(frame.sequenceId));
        return;
      case 'ACTIVE_TEST_RESP':
        this.counters.activeTestsAnswered++;
        return;
      case 'SUBMIT_RESP':
      case 'TERMINATE_RESP':
        return;
      case 'TERMINATE':
        this.counters.terminates++;
        if (this.gateway.options.silent) return;
        // After the answers still owed (answerDelayMs keeps them in order).
        if ((this.gateway.options.answerDelayMs ?? 0) > 0)
          setTimeout(
            () => socket.end(encodeTerminateResp(frame.sequenceId)),
            this.gateway.options.answerDelayMs,
          ).unref();
        else socket.end(encodeTerminateResp(frame.sequenceId));
        return;
      default:
        // QUERY, CANCEL, unknown commands: what the real implementations do, TERMINATE and close.
        return this.terminate(conn);
    }
  }

  private login(
    conn: Conn,
    sequenceId: number,
    account: string,
    authenticator: Buffer,
    asked: number,
    timestamp: number,
  ): void {
    const options = this.gateway.options;
    const own = versionByte(options.version ?? '3.0');
    const entry = this.gateway.accounts.get(account);
    // Answer in the lower of the two versions: a 2.0 client gets the 2.0 layout.
    const answer: CmppVersion = versionOfByte(Math.min(asked, own));
    let status = 0;
    if (conn.account)
      status = 1; // a second CONNECT on a logged-in session
    else if (!entry) status = 2;
    else if (entry.status !== undefined) status = entry.status;
    else if (entry.allowedIps && !entry.allowedIps.includes(normalizeIp(conn.socket.remoteAddress)))
      status = 2;
    else if (!authenticatorSource(account, entry.secret, timestamp).equals(authenticator)) status = 3;
    else if (asked > own) status = 4;
    else if ((this.perAccount.get(account) ?? 0) >= (entry.maxConnections ?? 4)) status = 5;
    this.counters.logins[status] = (this.counters.logins[status] ?? 0) + 1;
    if (status !== 0 || !entry) return this.refuse(conn, sequenceId, status, answer);
    conn.account = entry;
    conn.version = answer;
    this.perAccount.set(account, (this.perAccount.get(account) ?? 0) + 1);
    const ismg = options.wrongAuthenticator
      ? Buffer.alloc(16, 0x5a)
      : authenticatorIsmg(0, authenticator, entry.secret, answer);
    send(conn, encodeConnectResp({ sequenceId, status: 0, authenticator: ismg, version: answer }));
  }

  /** A refused login: CONNECT_RESP with a zero authenticator, TERMINATE, close (as real servers do). */
  private refuse(conn: Conn, sequenceId: number, status: number, version: CmppVersion): void {
    send(conn, encodeConnectResp({ sequenceId, status, version }));
    this.terminate(conn);
  }

  private terminate(conn: Conn): void {
    conn.socket.end(encodeTerminate(conn.seq.next()));
    conn.socket.destroySoon();
  }

  private sendReport(conn: Conn, msgId: Buffer, recipient: string): void {
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(2, 12);
    const content = encodeStatusReport({
      version: conn.version,
      msgId,
      stat: 'DELIVRD',
      submitTime: stamp,
      doneTime: stamp,
      destTerminalId: recipient,
      smscSequence: this.msgCounter,
    });
    this.counters.reportsSent++;
    send(
      conn,
      encodeDeliver({
        sequenceId: conn.seq.next(),
        version: conn.version,
        msgId: this.nextMsgId(),
        destId: '10658000',
        srcTerminalId: recipient,
        registeredDelivery: 1,
        content,
      }),
    );
  }
}

/** Writes, and stops reading from a client that doesn't read its answers until they drain. */
function send(conn: Conn, frame: Buffer): void {
  const { socket } = conn;
  if (socket.write(frame) || socket.isPaused()) return;
  conn.node.counters.pausedReads++;
  socket.pause();
  socket.once('drain', () => socket.resume());
}

function normalizeIp(ip: string | undefined): string {
  return (ip ?? '').replace(/^::ffff:/, '');
}

class GatewayRunner implements GatewaySim {
  readonly accounts: Map<string, GatewayAccount>;
  readonly nodes: GatewayNode[] = [];
  ports: number[] = [];
  private readonly seen = new Map<string, number>();
  private overflow = false;

  constructor(readonly options: GatewayOptions) {
    this.accounts = new Map(options.accounts.map((a) => [a.account, a]));
  }

  async listen(): Promise<void> {
    for (const port of this.options.ports) {
      const node = new GatewayNode(this, port);
      this.nodes.push(node);
      await new Promise<void>((resolve, reject) => {
        node.server.once('error', reject);
        node.server.listen({ port, host: this.options.host ?? '127.0.0.1' }, () => {
          node.server.off('error', reject);
          resolve();
        });
      });
      node.counters.port = (node.server.address() as net.AddressInfo).port;
    }
    this.ports = this.nodes.map((n) => n.counters.port);
  }

  counters(): NodeCounters[] {
    return this.nodes.map((n) => structuredClone(n.counters));
  }

  record(account: string, content: Buffer): void {
    const key = `${account}:${content.toString('latin1')}`;
    const n = this.seen.get(key);
    if (n !== undefined) this.seen.set(key, n + 1);
    else if (this.seen.size < MAX_RECORDED) this.seen.set(key, 1);
    else this.overflow = true;
  }

  recorded(): Map<string, number> {
    return new Map(this.seen);
  }

  recordOverflow(): boolean {
    return this.overflow;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            for (const socket of node.sockets) socket.destroy();
            node.server.close(() => resolve());
          }),
      ),
    );
  }
}

/** Starts a gateway on every port of `options.ports`; reject if one cannot listen (the others are closed). */
export async function startGateway(options: GatewayOptions): Promise<GatewaySim> {
  const runner = new GatewayRunner(options);
  try {
    await runner.listen();
  } catch (err) {
    await runner.close();
    throw err;
  }
  return runner;
}
