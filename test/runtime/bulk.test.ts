// 200 MB through the relay into a server that reads slowly: every byte arrives, in order, and
// memory stays bounded because backpressure reaches the sender. The runtime, the sender and the
// slow reader share this test process, so the RSS figure is an upper bound for the runtime's own.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, connect, freePort, frontend, listen, server, sleep, snapshot } from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOTAL = 200 * 1024 * 1024;
const PERIOD = 65_521; // prime, so chunk boundaries never line up with the pattern
const block = randomBytes(PERIOD);
const doubled = Buffer.concat([block, block, block]);

/** The expected bytes at [offset, offset+length), length <= 2*PERIOD. */
function pattern(offset: number, length: number): Buffer {
  const start = offset % PERIOD;
  return doubled.subarray(start, start + length);
}

it('moves 200 MB through a slow reader intact and in order with bounded memory', async () => {
  let received = 0;
  let mismatchAt = -1;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const slow = await listen((socket: Socket) => {
    let sincePause = 0;
    socket.on('data', (chunk: Buffer) => {
      // Verify incrementally; keep nothing.
      for (let at = 0; at < chunk.length; at += PERIOD) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + PERIOD));
        if (mismatchAt === -1 && !piece.equals(pattern(received + at, piece.length)))
          mismatchAt = received + at;
      }
      received += chunk.length;
      sincePause += chunk.length;
      if (received >= TOTAL) finish();
      else if (sincePause >= 1024 * 1024) {
        // Deliberately slow: ~1 MB then a 15 ms nap.
        sincePause = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 15);
      }
    });
  });
  cleanups.push(() => slow.close());
  const port = await freePort();
  const rt = new ProxyRuntime();
  cleanups.push(() => rt.close());
  await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('slow', slow.port)])]));

  const client = await connect(port);
  cleanups.push(() => client.destroy());
  global.gc?.();
  await sleep(50);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
  cleanups.push(() => clearInterval(sampler));

  const started = Date.now();
  let sent = 0;
  const CHUNK = 64 * 1024;
  while (sent < TOTAL) {
    const length = Math.min(CHUNK, TOTAL - sent);
    // A copy: the pattern buffer is shared, and queued writes keep references.
    const ok = client.write(Buffer.from(pattern(sent, length)));
    sent += length;
    if (!ok) await new Promise<void>((resolve) => client.once('drain', () => resolve()));
  }
  await finished;
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const growthMb = (rssPeak - rssBefore) / 1024 / 1024;
  console.log(`200 MB via slow reader: ${seconds.toFixed(1)} s, RSS growth ${growthMb.toFixed(1)} MB`);

  expect(mismatchAt).toBe(-1);
  expect(received).toBe(TOTAL);
  expect(growthMb).toBeLessThan(100);
  const stats = await rt.stats();
  expect(stats.frontends[0].bin).toBe(TOTAL);
  // The runtime held the sender back: the slow reader took measurable time.
  expect(seconds).toBeGreaterThan(2);
}, 60_000);
