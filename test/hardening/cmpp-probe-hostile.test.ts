// The CMPP login check against hostile gateways (real loopback sockets): whatever the peer does, the check
// settles within its timeout with a clear status, holds a bounded amount of memory and leaves no socket open.
import net from 'node:net';
import { expect, it } from 'vitest';
import { encodeActiveTest, encodeConnectResp } from '../../src/cmpp/codec.js';
import { cmppProbe } from '../../src/runtime/health/cmpp-probe.js';
import { rawGateways } from '../helpers/cmpp-peers.js';
import { waitFor } from '../helpers/net.js';

/** Hostile gateways; `accepted`: their sides of each connection, to see them closed. */
const { gateway, accepted } = rawGateways();

const check = cmppProbe({ sourceAddr: '900001', secret: 'hostile-test', version: '3.0' });
const at = (port: number, timeoutMs: number) => check({ address: '127.0.0.1', port }, timeoutMs);
const closedByCheck = (socket: net.Socket) => socket.destroyed || socket.readableEnded;

it('a gateway flooding ACTIVE_TEST and never reading the answers fails the check at once (bounded answers)', async () => {
  // 200,000 ACTIVE_TESTs (2.4 MB): answered one by one, they would pile up in the check's write buffer
  // until the timeout (up to a day), as fast as the gateway sends.
  const flood = Buffer.concat(Array.from({ length: 200_000 }, (_, i) => encodeActiveTest(i)));
  const port = await gateway((socket) => {
    socket.pause(); // never reads
    socket.write(flood);
  });
  const result = await at(port, 10_000);
  expect(result).toMatchObject({
    ok: false,
    status: 'L7RSP',
    description: expect.stringContaining('ACTIVE_TEST'),
  });
  expect(result.durationMs).toBeLessThan(9000);
});

it('a gateway answering one byte at a time past the timeout is L7TOUT, and the connection is closed', async () => {
  const answer = encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' });
  let timer: NodeJS.Timeout | undefined;
  const port = await gateway((socket) => {
    let i = 0;
    timer = setInterval(() => {
      if (i < answer.length && !socket.destroyed) socket.write(answer.subarray(i, ++i));
    }, 100);
    socket.once('close', () => clearInterval(timer));
  });
  try {
    expect(await at(port, 300)).toMatchObject({ ok: false, status: 'L7TOUT' });
    const socket = accepted.at(-1)!;
    await waitFor(() => closedByCheck(socket), 3000, 'the check to close its connection');
  } finally {
    clearInterval(timer);
  }
});

it('a gateway that logs in and then ignores TERMINATE and never closes: L7OK, the check closes anyway', async () => {
  const port = await gateway((socket) => {
    socket.once('data', () => socket.write(encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' })));
  });
  expect(await at(port, 2000)).toMatchObject({ ok: true, status: 'L7OK' });
  const socket = accepted.at(-1)!;
  // The check lingers at most a second for the gateway's close, then destroys its side.
  await waitFor(() => socket.destroyed || socket.readableEnded, 5000, 'the check to close its connection');
});

it('a huge Total_Length, half a frame then close: L7RSP, never a throw', async () => {
  const huge = Buffer.alloc(12);
  huge.writeUInt32BE(0xffffffff, 0);
  huge.writeUInt32BE(0x80000001, 4);
  const hugePort = await gateway((socket) => socket.once('data', () => socket.write(huge)));
  expect(await at(hugePort, 2000)).toMatchObject({
    status: 'L7RSP',
    description: expect.stringContaining('not CMPP'),
  });
  const half = encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' }).subarray(0, 20);
  const halfPort = await gateway((socket) => socket.once('data', () => socket.end(half)));
  expect(await at(halfPort, 2000)).toMatchObject({
    status: 'L7RSP',
    description: expect.stringContaining('closed'),
  });
});
