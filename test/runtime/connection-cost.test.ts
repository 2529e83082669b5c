// What a proxied connection costs beyond the bytes (docs/runtime-hot-path.md, "What a new connection
// costs"): the work the relay does per connection, checked on the relay's own sockets. The CPU figures
// themselves come from `npm run bench`, never from a timed test.
import net, { type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION } from '../../src/runtime/session.js';
import {
  backend,
  closed,
  freePort,
  frontend,
  readBytes,
  readLine,
  server,
  snapshot,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { runtime, servers, client } = closeAfterEach();

type Watched = Socket & { [SESSION]?: unknown };

/**
 * Watches the relay's sockets (those carrying a session) in this process: which were seen, and every
 * end() called on one that had already ended or been destroyed (Node builds an error with a stack
 * for it and drops it).
 */
function watchRelaySockets() {
  const proto = net.Socket.prototype as Socket & {
    on: Socket['on'];
    end: Socket['end'];
    write: Socket['write'];
  };
  const originalOn = proto.on;
  const originalEnd = proto.end;
  const originalWrite = proto.write;
  const sockets = new Set<Watched>();
  const lateEnds: string[] = [];
  /** socket.write() calls on relay sockets: none when the relay writes through the libuv handles. */
  const streamWrites = { count: 0 };
  proto.write = function (this: Watched, ...args: unknown[]) {
    if (this[SESSION] !== undefined) streamWrites.count++;
    return (originalWrite as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
  proto.on = function (this: Watched, ...args: Parameters<Socket['on']>) {
    if (this[SESSION] !== undefined) sockets.add(this);
    return originalOn.apply(this, args);
  } as Socket['on'];
  proto.end = function (this: Watched, ...args: unknown[]) {
    if (this[SESSION] !== undefined && (this.writableEnded || this.destroyed))
      lateEnds.push(this.destroyed ? 'destroyed' : 'ended');
    return (originalEnd as (...a: unknown[]) => Socket).apply(this, args);
  } as Socket['end'];
  const restore = () => {
    proto.on = originalOn;
    proto.end = originalEnd;
    proto.write = originalWrite;
  };
  return { sockets, lateEnds, streamWrites, restore };
}

let restore: (() => void) | undefined;
afterEach(() => restore?.());

describe('per-connection cost', () => {
  for (const internals of [true, false]) {
    describe(internals ? 'node internals on' : 'node internals off', () => {
      it('a normal close ends each socket once and adds no drain listener to a session that never filled a buffer', async () => {
        const [s1] = await servers('s1');
        const port = await freePort();
        const rt = runtime({ nodeInternals: internals });
        await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
        const watch = watchRelaySockets();
        restore = watch.restore;

        const c = await client(port);
        expect(await readLine(c)).toBe('s1');
        c.write('ping');
        expect((await readBytes(c, 4)).toString()).toBe('ping');

        // Internals on: every relayed chunk went through the libuv handle; off: through socket.write().
        if (internals) expect(watch.streamWrites.count).toBe(0);
        else expect(watch.streamWrites.count).toBeGreaterThanOrEqual(2);
        // The relay's net.Sockets: the client side, and the server side unless it runs on a raw handle.
        expect(watch.sockets.size).toBe(internals ? 1 : 2);
        for (const socket of watch.sockets) expect(socket.listenerCount('drain')).toBe(0);

        // Client half-closes, the echo server answers with its own FIN: the normal, clean end.
        c.end();
        await closed(c);
        await expect.poll(async () => (await rt.stats()).frontends[0].scur).toBe(0);
        expect(watch.lateEnds).toEqual([]);
      });
    });
  }
});
