// Child process of the reconnect storm (storm.ts): ONE CMPP-like server on 127.0.0.1:BENCH_STORM_PORT
// (0: the kernel picks), its own process so the storm can kill -9 it and start it again on the same port.
// SUBMIT → SUBMIT_RESP (3.0, 24 bytes, same Sequence_Id); any other frame is ignored; a frame outside
// 12..4096 bytes closes the connection.
import net from 'node:net';
import { HEADER_LENGTH, MAX_FRAME_LENGTH, SUBMIT, SUBMIT_RESP, SUBMIT_RESP_LENGTH } from './cmpp.js';
import { announce, serve } from './ipc.js';

const totals = { current: 0, connections: 0, submits: 0 };
let msgId = 0;

function onConnection(socket: net.Socket): void {
  totals.current++;
  totals.connections++;
  let pending: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const input = pending ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    while (input.length - offset >= HEADER_LENGTH) {
      const length = input.readUInt32BE(offset);
      if (length < HEADER_LENGTH || length > MAX_FRAME_LENGTH) return void socket.destroy();
      if (input.length - offset < length) break;
      if (input.readUInt32BE(offset + 4) === SUBMIT) {
        // A fresh buffer per answer: a write may queue.
        const out = Buffer.alloc(SUBMIT_RESP_LENGTH);
        out.writeUInt32BE(SUBMIT_RESP_LENGTH, 0);
        out.writeUInt32BE(SUBMIT_RESP, 4);
        out.writeUInt32BE(input.readUInt32BE(offset + 8), 8);
        out.writeUInt32BE(++msgId >>> 0, 16);
        totals.submits++;
        socket.write(out);
      }
      offset += length;
    }
    pending = offset < input.length ? Buffer.from(input.subarray(offset)) : null;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => totals.current--);
}

const server = net.createServer({ noDelay: true }, onConnection);
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(
    { host: '127.0.0.1', port: Number(process.env.BENCH_STORM_PORT ?? 0), backlog: 4096 },
    resolve,
  );
});
server.on('error', (err) => console.error('storm backend error', err));

serve({ stats: () => ({ ...totals }) });
announce({ port: (server.address() as net.AddressInfo).port });
