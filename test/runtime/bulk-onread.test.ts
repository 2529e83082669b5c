// The relay reads every socket into one shared buffer (onread) and copies each read out before
// writing it. These runs push bulk data both ways at once through slow readers on both ends, so
// writes queue in both directions, and check every byte: a queued write holding the shared buffer
// would show up here as corrupted bytes. Once with accepted sockets from the onread accept hook,
// once on the public accept path the listener falls back to when the hook's self-test fails.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  installOnReadAccept,
  selfTestAcceptHook,
  setAcceptOnRead,
  USER_READ,
} from '../../src/runtime/listener.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, connect, freePort, frontend, listen, server, snapshot } from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  setAcceptOnRead(undefined);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOTAL = 48 * 1024 * 1024;
const PERIOD = 65_521; // prime, so read boundaries never line up with the pattern

/** An endless byte pattern of one random period. */
function makePattern(): (offset: number, length: number) => Buffer {
  const block = randomBytes(PERIOD);
  const tripled = Buffer.concat([block, block, block]);
  return (offset, length) => tripled.subarray(offset % PERIOD, (offset % PERIOD) + length);
}

/** Checks every byte against `pattern`, reading ~512 KB then napping 10 ms; resolves at `total`. */
function slowVerify(socket: Socket, pattern: ReturnType<typeof makePattern>, total: number) {
  return new Promise<{ received: number; mismatchAt: number }>((resolve) => {
    let received = 0;
    let mismatchAt = -1;
    let sincePause = 0;
    socket.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += PERIOD) {
        const piece = chunk.subarray(at, Math.min(chunk.length, at + PERIOD));
        if (mismatchAt === -1 && !piece.equals(pattern(received + at, piece.length)))
          mismatchAt = received + at;
      }
      received += chunk.length;
      sincePause += chunk.length;
      if (received >= total) resolve({ received, mismatchAt });
      else if (sincePause >= 512 * 1024) {
        sincePause = 0;
        socket.pause();
        setTimeout(() => socket.resume(), 10);
      }
    });
    socket.on('close', () => resolve({ received, mismatchAt }));
  });
}

/** Writes `total` bytes of `pattern` in fresh 64 KB copies, waiting for 'drain'. */
async function send(socket: Socket, pattern: ReturnType<typeof makePattern>, total: number) {
  let sent = 0;
  while (sent < total) {
    const length = Math.min(64 * 1024, total - sent);
    const ok = socket.write(Buffer.from(pattern(sent, length)));
    sent += length;
    if (!ok) await new Promise<void>((resolve) => socket.once('drain', () => resolve()));
  }
}

async function bothWays(expectUserRead: boolean) {
  const up = makePattern();
  const down = makePattern();
  let serverSide: Promise<{ received: number; mismatchAt: number }> | undefined;
  const slow = await listen((socket: Socket) => {
    serverSide = slowVerify(socket, up, TOTAL);
    void send(socket, down, TOTAL);
  });
  cleanups.push(() => slow.close());
  const port = await freePort();
  const rt = new ProxyRuntime();
  cleanups.push(() => rt.close());
  await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('slow', slow.port)])]));

  const client = await connect(port);
  cleanups.push(() => client.destroy());
  const clientSide = slowVerify(client, down, TOTAL);
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

  const [session] = rt.sessionMap.values();
  expect(session.client[USER_READ as never] === true).toBe(expectUserRead);
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

  it('moves 48 MB each way at once intact on the public accept path (self-test failed)', async () => {
    setAcceptOnRead(false);
    await bothWays(false);
  }, 60_000);
});
