// Child process: CMPP-like backend servers on 127.0.0.1 (ports chosen by the kernel).
// SUBMIT → SUBMIT_RESP (3.0, Result 0, same Sequence_Id), ACTIVE_TEST → ACTIVE_TEST_RESP,
// CONNECT → CONNECT_RESP Status 0, TERMINATE → TERMINATE_RESP then close. Anything else is ignored;
// a frame outside 12..4096 bytes is not CMPP and closes the connection (counted).
import net from 'node:net';
import {
  ACTIVE_TEST,
  ACTIVE_TEST_RESP,
  ACTIVE_TEST_RESP_LENGTH,
  CONNECT,
  CONNECT_RESP,
  CONNECT_RESP_LENGTH,
  HEADER_LENGTH,
  MAX_FRAME_LENGTH,
  MAX_RESPONSE_LENGTH,
  SUBMIT,
  SUBMIT_RESP,
  SUBMIT_RESP_LENGTH,
  TERMINATE,
  TERMINATE_RESP,
} from './cmpp.js';
import { announce, serve } from './ipc.js';

const count = Number(process.env.BENCH_SERVER_COUNT ?? 2);
const pendingBytes = Symbol('pending');

interface BackendSocket extends net.Socket {
  [pendingBytes]: Buffer | null;
}

const totals = { current: 0, connections: 0, frames: 0, badFrames: 0 };
let msgId = 0;

function onData(this: BackendSocket, chunk: Buffer): void {
  const pending = this[pendingBytes];
  const input = pending ? Buffer.concat([pending, chunk]) : chunk;
  const out = Buffer.allocUnsafe(Math.ceil(input.length / HEADER_LENGTH) * MAX_RESPONSE_LENGTH);
  let used = 0;
  let offset = 0;
  let terminate = false;
  while (input.length - offset >= HEADER_LENGTH) {
    const length = input.readUInt32BE(offset);
    if (length < HEADER_LENGTH || length > MAX_FRAME_LENGTH) {
      totals.badFrames++;
      this.destroy();
      return;
    }
    if (input.length - offset < length) break;
    const command = input.readUInt32BE(offset + 4);
    const sequence = input.readUInt32BE(offset + 8);
    totals.frames++;
    if (command === SUBMIT) used = answer(out, used, SUBMIT_RESP_LENGTH, SUBMIT_RESP, sequence);
    else if (command === ACTIVE_TEST)
      used = answer(out, used, ACTIVE_TEST_RESP_LENGTH, ACTIVE_TEST_RESP, sequence);
    else if (command === CONNECT) used = answer(out, used, CONNECT_RESP_LENGTH, CONNECT_RESP, sequence);
    else if (command === TERMINATE) {
      used = answer(out, used, HEADER_LENGTH, TERMINATE_RESP, sequence);
      terminate = true;
    }
    offset += length;
  }
  this[pendingBytes] = offset < input.length ? Buffer.from(input.subarray(offset)) : null;
  if (used > 0) this.write(out.subarray(0, used));
  if (terminate) this.end();
}

function answer(out: Buffer, at: number, length: number, command: number, sequence: number): number {
  out.fill(0, at, at + length);
  out.writeUInt32BE(length, at);
  out.writeUInt32BE(command, at + 4);
  out.writeUInt32BE(sequence, at + 8);
  if (command === SUBMIT_RESP) out.writeUInt32BE(++msgId >>> 0, at + 16); // Msg_Id; Result stays 0
  if (command === CONNECT_RESP) out[at + 32] = 0x30; // Version 3.0; Status 0
  return at + length;
}

function onError(): void {
  // A client going away mid-write is normal under load; the close handler does the accounting.
}

function onClose(): void {
  totals.current--;
}

function onConnection(socket: net.Socket): void {
  const s = socket as BackendSocket;
  s[pendingBytes] = null;
  totals.current++;
  totals.connections++;
  s.on('data', onData);
  s.on('error', onError);
  s.on('close', onClose);
}

const servers: net.Server[] = [];
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = net.createServer({ noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
  });
  server.on('error', (err) => console.error('backend server error', err));
  servers.push(server);
  ports.push((server.address() as net.AddressInfo).port);
}

serve({ stats: () => ({ ...totals }) });
announce({ ports });
