// The relay reads every socket into one shared buffer (onread) and copies each read out before
// writing it. These runs push bulk data both ways at once through slow readers on both ends, so
// writes queue in both directions, and check every byte: a queued write holding the shared buffer
// would show up here as corrupted bytes. Once with accepted sockets from the onread accept hook,
// once on the public accept path the listener falls back to when the hook's self-test fails.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { installOnReadAccept, selfTestAcceptHook } from '../../src/runtime/node-internals.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { makePattern, send, slowVerify } from '../helpers/bulk.js';
import { backend, connect, freePort, frontend, listen, server, snapshot } from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOTAL = 48 * 1024 * 1024;
/** Each reader takes ~512 KB, then naps 10 ms. */
const SLOW = { pauseEvery: 512 * 1024, napMs: 10 };
async function bothWays(expectUserRead: boolean) {
  // The public path is what TETHER_NODE_INTERNALS=off, or a failed self-test, gives.
  const up = makePattern();
  const down = makePattern();
  let serverSide: Promise<{ received: number; mismatchAt: number }> | undefined;
  const slow = await listen((socket: Socket) => {
    serverSide = slowVerify(socket, up, TOTAL, SLOW);
    void send(socket, down, TOTAL);
  });
  cleanups.push(() => slow.close());
  const port = await freePort();
  const rt = new ProxyRuntime({ nodeInternals: expectUserRead });
  cleanups.push(() => rt.close());
  await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('slow', slow.port)])]));
  expect((await rt.listenerPaths()).listeners).toEqual([
    expect.objectContaining({ frontend: 'fe', accept: expectUserRead ? 'onread' : 'public' }),
  ]);

  const client = await connect(port);
  cleanups.push(() => client.destroy());
  const clientSide = slowVerify(client, down, TOTAL, SLOW);
  const started = Date.now();
  await send(client, up, TOTAL);
  const [atServer, atClient] = await Promise.all([
    (async () => {
      while (serverSide === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      return serverSide;
    })(),
    clientSide,
  ]);
  const seconds = (Date.now() - started) / 1000;

  const [session] = await rt.sessions();
  expect(session.readPath).toBe(expectUserRead ? 'onread' : 'stream');
  expect(atServer).toEqual({ received: TOTAL, mismatchAt: -1 });
  expect(atClient).toEqual({ received: TOTAL, mismatchAt: -1 });
  expect(session.bytesIn).toBe(TOTAL);
  expect(session.bytesOut).toBe(TOTAL);
  // Both readers held their senders back through the relay.
  expect(seconds).toBeGreaterThan(0.5);
}

describe('onread relay', () => {
  it('self-tests the accept hook: the real one passes, broken ones fail', async () => {
    expect(await selfTestAcceptHook(installOnReadAccept)).toBe(true);
    // Installs nothing: sockets come without onread and the bytes never reach the callback.
    expect(await selfTestAcceptHook(() => true, 500)).toBe(false);
    expect(await selfTestAcceptHook(() => false)).toBe(false);
    expect(
      await selfTestAcceptHook(() => {
        throw new Error('no handle');
      }),
    ).toBe(false);
  });

  it('moves 48 MB each way at once through slow readers intact, accepted sockets reading with onread', async () => {
    await bothWays(true);
  }, 60_000);

  it('moves 48 MB each way at once intact on the public accept path (internals off)', async () => {
    await bothWays(false);
  }, 60_000);
});
