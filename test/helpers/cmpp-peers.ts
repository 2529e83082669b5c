// A small CMPP gateway and SP for tests of what the relay sees (inspection, account stickiness): real
// sockets, frames from src/cmpp/codec.ts, every answer decided by the test.
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { afterAll } from 'vitest';
import {
  encodeActiveTest,
  encodeActiveTestResp,
  encodeConnect,
  encodeConnectResp,
  encodeSubmit,
  encodeSubmitResp,
  encodeTerminate,
  encodeTerminateResp,
} from '../../src/cmpp/codec.js';
import { CommandId, HEADER_LENGTH } from '../../src/cmpp/commands.js';
import { listen, type TestServer } from './net.js';

export interface Frame {
  commandId: number;
  sequenceId: number;
  /** The whole frame, header included. */
  bytes: Buffer;
}

/** Calls `onFrame` for each whole frame arriving on `socket` (test peers buffer; the relay never does). */
export function readFrames(socket: Socket, onFrame: (frame: Frame) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= HEADER_LENGTH) {
      const length = buffered.readUInt32BE(0);
      if (buffered.length < length) break;
      const bytes = buffered.subarray(0, length);
      buffered = buffered.subarray(length);
      onFrame({ commandId: bytes.readUInt32BE(4), sequenceId: bytes.readUInt32BE(8), bytes });
    }
  });
}

export interface GatewayOptions {
  /** CONNECT_RESP status per account (default 0). */
  loginStatus?: (account: string) => number;
  /** SUBMIT_RESP result per sequence id (default 0). */
  submitResult?: (sequenceId: number) => number;
  /** Sends one ACTIVE_TEST (sequence 77) after a successful login. */
  activeTestAfterLogin?: boolean;
}

export interface Gateway extends TestServer {
  /**
   * While true, SUBMIT_RESPs are held back; release() sends them in arrival order. A TERMINATE_RESP waits behind
   * its connection's held answers (a gateway answers in order).
   */
  hold: boolean;
  release(): void;
  /** Frames received, all connections. */
  received: Frame[];
}

const MSG_ID = Buffer.alloc(8, 1);

export async function cmppGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const held: Array<{ socket: Socket; frame: Buffer; end?: boolean }> = [];
  const received: Frame[] = [];
  const server = await listen((socket) => {
    socket.on('end', () => socket.end());
    readFrames(socket, (frame) => {
      received.push(frame);
      answer(socket, frame);
    });
  });
  const gateway = server as Gateway;
  gateway.hold = false;
  gateway.received = received;
  gateway.release = () => {
    for (const { socket, frame, end } of held.splice(0)) {
      socket.write(frame);
      if (end) socket.end();
    }
  };
  function answer(socket: Socket, frame: Frame): void {
    const seq = frame.sequenceId;
    switch (frame.commandId) {
      case CommandId.CONNECT: {
        const account = frame.bytes.toString('latin1', HEADER_LENGTH, HEADER_LENGTH + 6).replace(/\0+$/, '');
        const status = options.loginStatus?.(account) ?? 0;
        socket.write(encodeConnectResp({ sequenceId: seq, status, version: '3.0' }));
        if (status === 0 && options.activeTestAfterLogin) socket.write(encodeActiveTest(77));
        return;
      }
      case CommandId.SUBMIT: {
        const resp = encodeSubmitResp({
          sequenceId: seq,
          msgId: MSG_ID,
          result: options.submitResult?.(seq) ?? 0,
          version: '3.0',
        });
        if (gateway.hold) held.push({ socket, frame: resp });
        else socket.write(resp);
        return;
      }
      case CommandId.ACTIVE_TEST:
        socket.write(encodeActiveTestResp(seq));
        return;
      case CommandId.TERMINATE:
        if (held.some((h) => h.socket === socket)) {
          held.push({ socket, frame: encodeTerminateResp(seq), end: true });
          return;
        }
        socket.write(encodeTerminateResp(seq));
        socket.end();
        return;
    }
  }
  return gateway;
}

/** An SP connection: frames it receives are queued; next(n) resolves with the next n of them. */
export class Sp {
  private readonly frames: Frame[] = [];
  private waiter: { n: number; resolve: (f: Frame[]) => void } | null = null;

  private constructor(readonly socket: Socket) {
    readFrames(socket, (frame) => {
      // The SP answers the gateway's ACTIVE_TEST as real clients do.
      if (frame.commandId === CommandId.ACTIVE_TEST) socket.write(encodeActiveTestResp(frame.sequenceId));
      this.frames.push(frame);
      this.wake();
    });
  }

  static async connect(port: number, localAddress = '127.0.0.1'): Promise<Sp> {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new Sp(socket);
  }

  next(n = 1, timeoutMs = 5000): Promise<Frame[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timeout: ${this.frames.length}/${n} frames`)),
        timeoutMs,
      );
      this.waiter = {
        n,
        resolve: (frames) => {
          clearTimeout(timer);
          resolve(frames);
        },
      };
      this.wake();
    });
  }

  private wake(): void {
    if (this.waiter !== null && this.frames.length >= this.waiter.n) {
      const { n, resolve } = this.waiter;
      this.waiter = null;
      resolve(this.frames.splice(0, n));
    }
  }

  /** Logs in; the CONNECT goes out in `pieces` writes, `gapMs` apart (the relay sees several reads). */
  async login(account: string, pieces = 1, gapMs = 0): Promise<Frame> {
    await this.sendSplit(connectFrame(account), pieces, gapMs);
    const [resp] = await this.next(1);
    return resp;
  }

  async sendSplit(bytes: Buffer, pieces: number, gapMs: number): Promise<void> {
    const size = Math.ceil(bytes.length / pieces);
    for (let at = 0; at < bytes.length; at += size) {
      this.socket.write(bytes.subarray(at, at + size));
      if (gapMs > 0 && at + size < bytes.length) await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  submit(sequenceId: number, account: string): Buffer {
    return encodeSubmit({
      sequenceId,
      version: '3.0',
      account,
      srcId: '10658000',
      recipients: ['13800138000'],
      content: Buffer.from(`message ${sequenceId}`),
    });
  }

  async terminate(sequenceId: number): Promise<Frame> {
    this.socket.write(encodeTerminate(sequenceId));
    const [resp] = await this.next(1);
    return resp;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function connectFrame(account: string, sequenceId = 1): Buffer {
  return encodeConnect({ sequenceId, account, secret: 'secret', timestamp: 1205143000, version: '3.0' });
}

/**
 * Loopback servers that hand each accepted socket to the test as it is (a hostile gateway writes what it likes),
 * all closed, with the sockets they accepted, after the calling file's tests. `accepted`: the gateways' sides.
 */
export function rawGateways(): {
  gateway(onConnection: (socket: Socket) => void): Promise<number>;
  accepted: Socket[];
} {
  const servers: net.Server[] = [];
  const accepted: Socket[] = [];
  afterAll(() => {
    for (const s of accepted) s.destroy();
    for (const s of servers) s.close();
  });
  return {
    accepted,
    async gateway(onConnection) {
      const server = net.createServer((socket) => {
        accepted.push(socket);
        socket.on('error', () => {});
        onConnection(socket);
      });
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return (server.address() as net.AddressInfo).port;
    },
  };
}
