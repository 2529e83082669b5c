// 200 MB through the relay into a server that reads slowly: every byte arrives, in order, and
// memory stays bounded because backpressure reaches the sender. The runtime, the sender and the
// slow reader share this test process, so the RSS figure is an upper bound for the runtime's own.
import type { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { makePattern, send, slowVerify } from '../helpers/bulk.js';
import { backend, connect, freePort, frontend, listen, server, sleep, snapshot } from '../helpers/net.js';
import { testNodeInternals } from '../helpers/internals.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOTAL = 200 * 1024 * 1024;

it('moves 200 MB through a slow reader intact and in order with bounded memory', async () => {
  const pattern = makePattern();
  let verified: Promise<{ received: number; mismatchAt: number }> | undefined;
  // Deliberately slow: ~1 MB then a 15 ms nap.
  const slow = await listen((socket: Socket) => {
    verified = slowVerify(socket, pattern, TOTAL, { pauseEvery: 1024 * 1024, napMs: 15 });
  });
  cleanups.push(() => slow.close());
  const port = await freePort();
  const rt = new ProxyRuntime({ nodeInternals: testNodeInternals });
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
  await send(client, pattern, TOTAL);
  while (verified === undefined) await sleep(5);
  const { received, mismatchAt } = await verified;
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
