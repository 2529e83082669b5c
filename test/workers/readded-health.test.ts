// Found verifying issue 9 (a haproxy.cfg imported again after another config): servers that were DOWN, left the
// config and came back stayed DOWN in every worker, from the health last pushed for them, while the main process
// (a new checker, UP until it proves otherwise) said UP and never pushed again: every connection was refused
// ("no server") while GET /stats and `show stat` said UP. A server that leaves now forgets its pushed health.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RuntimeStats } from '../../src/runtime/types.js';
import { backend, freePort, frontend, readLine, server, snapshot, waitFor } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { startPool } from './pool-helpers.js';

const { defer, client } = closeAfterEach();

describe('a checked server removed and added back, with worker processes', () => {
  it('is as healthy in every worker as in the main process, and serves', async () => {
    const port = await freePort();
    const serverPort = await freePort(); // nothing listens yet: the checks fail
    const pool = await startPool(2, defer);
    const check = { type: 'tcp' as const, inter: 100, fall: 1, rise: 1 };
    const checked = snapshot(
      [frontend('fe', port, 'be')],
      [backend('be', [server('s1', serverPort, { check: true })], { check })],
    );
    await pool.apply(checked);
    for (const id of [1, 2]) {
      await waitFor(
        async () =>
          (await pool.callWorker<RuntimeStats>(id, 'stats')).backends[0].servers[0].health === 'DOWN',
        5000,
        `DOWN in worker ${id}`,
      );
    }
    // Another config without s1, then s1 back, now listening.
    await pool.apply(
      snapshot([frontend('fe', port, 'be')], [backend('be', [server('other', serverPort + 1)])]),
    );
    // Health probes close at once: a reset on their socket is expected.
    const up = net.createServer((socket) => socket.on('error', () => {}).end('s1\n'));
    await new Promise<void>((resolve) => up.listen(serverPort, '127.0.0.1', resolve));
    defer(() => new Promise((resolve) => up.close(resolve)));
    await pool.apply(checked);

    expect((await pool.stats()).backends[0].servers[0].health).toBe('UP');
    for (const id of [1, 2]) {
      const worker = await pool.callWorker<RuntimeStats>(id, 'stats');
      expect(worker.backends[0].servers[0].health, `worker ${id}`).toBe('UP');
    }
    for (let i = 0; i < 6; i++) expect(await readLine(await client(port))).toBe('s1');
  });
});
