// Issue 11, attacked from outside (session 7): hostile gateways against the `check.type: cmpp` login check, real
// loopback sockets. Thousands of probes against a gateway that logs them in and then never closes, never reads or
// never answers: each check settles within its timeout and, a second or so later, holds no socket.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { encodeConnectResp } from '../../src/cmpp/codec.js';
import { cmppProbe } from '../../src/runtime/health/cmpp-probe.js';
import { rawGateways } from '../helpers/cmpp-peers.js';
import { waitFor } from '../helpers/net.js';

/** Hostile gateways, closed after the tests. */
const { gateway } = rawGateways();

const check = cmppProbe({ sourceAddr: '900001', secret: 'hostile-test', version: '3.0' });
/**
 * The checks' own connections to `port` still held by a process (Linux /proc/net/tcp: remote port `port`, an inode;
 * a socket closed and left to the kernel, in FIN_WAIT or TIME_WAIT, has inode 0). The gateway's sides are left as
 * they are (paused ones never see their end).
 */
function openOn(port: number): number {
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[9] !== '0' && parseInt(f[2].split(':')[1], 16) === port) n++;
  }
  return n;
}

it('1,000 probes against a gateway that logs them in, then never reads nor closes: all L7OK, no socket left', async () => {
  const port = await gateway((socket) => {
    socket.once('data', () => {
      socket.write(encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' }));
      socket.pause(); // never reads the TERMINATE, never closes
    });
  });
  for (let batch = 0; batch < 10; batch++) {
    const results = await Promise.all(
      Array.from({ length: 100 }, () => check({ address: '127.0.0.1', port }, 3000)),
    );
    for (const r of results) expect(r).toMatchObject({ ok: true, status: 'L7OK' });
  }
  // Each check lingers at most LINGER_MS (1 s) for the gateway's close, then destroys its side.
  expect(openOn(port)).toBeGreaterThan(0);
  await waitFor(() => openOn(port) === 0, 5000, 'every check connection closed');
}, 30_000);

it('500 probes against a gateway that never answers: all L7TOUT within the timeout, no socket left', async () => {
  const port = await gateway(() => {});
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: 500 }, () => check({ address: '127.0.0.1', port }, 400)),
  );
  for (const r of results) expect(r).toMatchObject({ ok: false, status: 'L7TOUT' });
  expect(performance.now() - started).toBeLessThan(5000);
  await waitFor(() => openOn(port) === 0, 3000, 'every check connection closed');
}, 30_000);

it('a CONNECT_RESP with a valid length but garbage for a command, and random bytes: L7RSP, closed', async () => {
  const garbage = Buffer.alloc(33, 0x41);
  garbage.writeUInt32BE(33, 0);
  const port = await gateway((socket) => socket.once('data', () => socket.write(garbage)));
  const result = await check({ address: '127.0.0.1', port }, 2000);
  expect(result).toMatchObject({ ok: false, status: 'L7RSP' });
  // The description is made of what the gateway sent: plain text, short.
  expect(result.description).toMatch(/^[\x20-\x7e]{1,120}$/);
  await waitFor(() => openOn(port) === 0, 3000, 'the check connection closed');
});
