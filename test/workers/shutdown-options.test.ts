// shutdownSessions(backend, server, { graceful: true }) through the WorkerPool (the shared interface of issue 12; a
// drain's deadline calls it): the options cross to every worker, the sessions of that server close in all of them
// (non-inspected sessions are closed plainly), the other server's stay, and the answer is the sum over the workers.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/runtime/types.js';
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
import { startPool } from './pool-helpers.js';

const { defer, servers, client } = closeAfterEach();

describe('worker pool: shutdownSessions with options', () => {
  it('closes one server’s sessions in every worker, gracefully asked, and counts them all', async () => {
    const [s1, s2] = await servers('s1', 's2');
    const port = await freePort();
    const pool = await startPool(2, defer);
    await pool.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port), server('s2', s2.port)])]),
    );
    const onS1: Socket[] = [];
    const onS2: Socket[] = [];
    for (let i = 0; i < 24; i++) {
      const c = await client(port, { localAddress: `127.0.0.${2 + i}` });
      ((await readLine(c)) === 's1' ? onS1 : onS2).push(c);
    }
    // Which worker holds each s1 session: both must hold some for the test to say anything.
    const workersOfS1 = new Set<number>();
    for (const id of [1, 2]) {
      for (const s of await pool.callWorker<SessionInfo[]>(id, 'sessions'))
        if (s.server === 's1') workersOfS1.add(id);
    }
    expect([...workersOfS1].sort()).toEqual([1, 2]);

    expect(await pool.shutdownSessions('be', 's1', { graceful: true })).toBe(onS1.length);
    await Promise.all(onS1.map((c) => closed(c)));
    for (const c of onS2) {
      c.write('x');
      expect((await readBytes(c, 1)).toString()).toBe('x');
    }
    expect((await pool.stats()).backends[0].servers.map((s) => [s.name, s.scur])).toEqual([
      ['s1', 0],
      ['s2', onS2.length],
    ]);
  });
});
