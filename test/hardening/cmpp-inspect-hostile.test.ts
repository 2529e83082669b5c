// A hostile peer on a frontend with `inspect: cmpp`, through the real app: whatever bytes either side
// sends, in whatever chunks, the relay never throws (a throw in a socket's 'data' handler kills the
// appliance) and passes every byte on exactly, both ways (sha256 of what was sent and what arrived).
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { connect, freePort, listen, sleep, type TestServer, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

/** What the upstream got on each connection, and what it sent (an echo after its own opening bytes). */
interface Upstream extends TestServer {
  received: Buffer[][];
  sent: Buffer[][];
}

let app: StartedApp;
let upstream: Upstream;
let port: number;
const OPENING = randomBytes(3000);

beforeAll(async () => {
  const received: Buffer[][] = [];
  const sent: Buffer[][] = [];
  const server = await listen((socket: Socket) => {
    const got: Buffer[] = [];
    const out: Buffer[] = [OPENING];
    received.push(got);
    sent.push(out);
    socket.write(OPENING);
    socket.on('data', (chunk: Buffer) => {
      got.push(chunk);
      out.push(Buffer.from(chunk));
      socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  upstream = Object.assign(server, { received, sent });
  app = await startApp();
  port = await freePort();
  await app.request
    .post('/api/v1/backends')
    .send(backendBody('hostile', [serverBody('h1', upstream.port)]))
    .expect(201);
  await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('inspected', port, 'hostile', { inspect: 'cmpp' }))
    .expect(201);
});

afterAll(async () => {
  await app?.close();
  await upstream?.close();
});

const sha = (parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');

/** A header alone in its own write: the frame's body has not arrived when the reader sees it. */
function header(totalLength: number, commandId: number, sequenceId: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(totalLength, 0);
  b.writeUInt32BE(commandId, 4);
  b.writeUInt32BE(sequenceId, 8);
  return b;
}

/** Sends `writes` one by one (a pause between them so each is its own read), then ends; checks both hashes. */
async function session(index: number, writes: Buffer[]): Promise<void> {
  const client = await connect(port, { localAddress: `127.0.0.${20 + index}` });
  const arrived: Buffer[] = [];
  client.on('data', (chunk: Buffer) => arrived.push(chunk));
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  for (const w of writes) {
    client.write(w);
    await sleep(15);
  }
  client.end();
  await ended;
  const sentByClient = Buffer.concat(writes);
  const total = sentByClient.length + OPENING.length;
  expect(sha(upstream.received[index])).toBe(sha([sentByClient]));
  expect(Buffer.concat(arrived).length).toBe(total);
  expect(sha(arrived)).toBe(sha(upstream.sent[index]));
  client.destroy();
}

it('a client sending answers (CONNECT_RESP, SUBMIT_RESP) with their body in a later read is relayed, not thrown on', async () => {
  // Session 0: a 3.0 SUBMIT_RESP header alone, its 12-byte body later, byte by byte.
  await session(0, [
    header(24, CommandId.SUBMIT_RESP, 1),
    ...Array.from(randomBytes(12), (b) => Buffer.of(b)),
  ]);
  // Session 1: a 3.0 CONNECT_RESP header alone, then its body, then a 2.0 SUBMIT_RESP header alone.
  await session(1, [
    header(33, CommandId.CONNECT_RESP, 2),
    randomBytes(21),
    header(21, CommandId.SUBMIT_RESP, 3),
    randomBytes(9),
  ]);
  const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
  expect(stats.frontends.find((f: { name: string }) => f.name === 'inspected').cmpp.sessions).toBe(2);
});

it('random bytes in 1-byte chunks and a huge Total_Length pass untouched and count as not CMPP', async () => {
  const huge = header(0xffffffff, CommandId.SUBMIT, 9);
  await session(2, [...Array.from(randomBytes(64), (b) => Buffer.of(b)), huge, randomBytes(5000)]);
  await session(3, [huge, randomBytes(2000)]);
  await waitFor(async () => {
    const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
    return stats.frontends.find((f: { name: string }) => f.name === 'inspected').cmpp.notCmpp >= 1;
  });
});
