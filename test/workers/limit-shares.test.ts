// maxconn holds for the whole appliance, and no client waits in a worker at its share while another worker
// has room (docs/workers.md, "maxconn for the whole appliance"): the shares follow the load.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RuntimeStats, SessionInfo } from '../../src/runtime/types.js';
import { backend, freePort, frontend, readLine, server, sleep, snapshot, waitFor } from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';
import { startPool } from './pool-helpers.js';

const { defer, servers, client } = closeAfterEach();

/** Whether the relay answers within `ms` (the server greets every connection with its name). */
async function served(c: Socket, ms: number): Promise<boolean> {
  try {
    return (await readLine(c, ms)) === 's1';
  } catch {
    return false;
  }
}

const CASES = [
  { limit: 'defaults.maxconn', internals: 'on' },
  { limit: "a frontend's maxconn", internals: 'on' },
  { limit: 'defaults.maxconn', internals: 'off' },
  { limit: "a frontend's maxconn", internals: 'off' },
] as const;

describe('limit shares over worker processes', () => {
  // Both pause paths (docs/runtime-hot-path.md): 'readstop' leaves clients over the share in the kernel's
  // backlog, where another worker takes them; 'hold' (internals off) accepts them and holds them unread,
  // which is where a worker at its share used to keep clients waiting while the other had room.
  it.each(CASES)(
    "$limit, pause path with internals $internals: a burst one worker takes is served from the other's room; the appliance never admits more than the limit",
    async ({ limit: which, internals }) => {
      const LIMIT = 40;
      const [s1] = await servers('s1');
      const port = await freePort();
      const before = process.env.TETHER_NODE_INTERNALS;
      process.env.TETHER_NODE_INTERNALS = internals; // inherited by the worker processes
      defer(() => {
        if (before === undefined) delete process.env.TETHER_NODE_INTERNALS;
        else process.env.TETHER_NODE_INTERNALS = before;
      });
      const pool = await startPool(2, defer);
      const paths = await pool.listenerPaths();
      expect(paths.pause).toBe(internals === 'on' ? 'readstop' : 'hold');
      const config = (limit: number) =>
        which === 'defaults.maxconn'
          ? snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])], {
              maxconn: limit,
            })
          : snapshot(
              [frontend('fe', port, 'be', { maxconn: limit })],
              [backend('be', [server('s1', s1.port)])],
            );
      await pool.apply(config(LIMIT));
      const [w1, w2] = pool.workerStats().map((w) => w.pid);
      const resume = () => [w1, w2].forEach((pid) => process.kill(pid, 'SIGCONT'));
      defer(resume);

      // 30 clients (more than one worker's even share of 20) wait in the kernel's backlog while both workers
      // are stopped; worker 1 wakes first and accepts all of them in one accept loop; worker 2 only later.
      process.kill(w1, 'SIGSTOP');
      process.kill(w2, 'SIGSTOP');
      const first: Socket[] = [];
      for (let i = 0; i < 30; i++) first.push(await client(port, { localAddress: `127.0.0.${2 + i}` }));
      process.kill(w1, 'SIGCONT');
      await sleep(300);
      process.kill(w2, 'SIGCONT');

      // Every one is served: those worker 1 accepted over its share got share from worker 2 (not left waiting).
      const answered = await Promise.all(first.map((c) => served(c, 5000)));
      expect(answered.filter(Boolean)).toHaveLength(30);
      const own = await Promise.all([1, 2].map((id) => pool.callWorker<SessionInfo[]>(id, 'sessions')));
      expect(own[0].length + own[1].length).toBe(30);
      // On the hold path worker 1 accepted all 30 in its accept loop (10 over its even share of 20).
      if (internals === 'off') expect(own[0].length).toBe(30);

      // The shares still add up to the limit: 15 more clients, and exactly 10 of them are served.
      const more: Socket[] = [];
      for (let i = 0; i < 15; i++) more.push(await client(port, { localAddress: `127.0.0.${40 + i}` }));
      const moreAnswered = await Promise.all(more.map((c) => served(c, 3000)));
      expect(moreAnswered.filter(Boolean)).toHaveLength(10);
      const slims = await Promise.all(
        [1, 2].map(async (id) => (await pool.callWorker<RuntimeStats>(id, 'stats')).frontends[0].slim),
      );
      expect(slims[0] + slims[1]).toBe(LIMIT);
      expect((await pool.stats()).frontends[0].scur).toBe(LIMIT);

      // Five of worker 1's clients leave: the five waiting are served, whichever worker has them.
      first.slice(0, 5).forEach((c) => c.destroy());
      const waiting = more.filter((_, i) => !moreAnswered[i]);
      expect((await Promise.all(waiting.map((c) => served(c, 3000)))).filter(Boolean)).toHaveLength(5);
      await waitFor(async () => (await pool.stats()).frontends[0].scur === LIMIT, 3000, 'the limit again');

      // A config change keeps the split the load made, scaled to the new limit: no worker is pushed below what
      // it holds by an unrelated change (an even split would give worker 1 22 of 44 while it holds 25 or more).
      await pool.apply(config(LIMIT + 4));
      const after = await Promise.all(
        [1, 2].map(async (id) => (await pool.callWorker<RuntimeStats>(id, 'stats')).frontends[0]),
      );
      expect(after[0].slim + after[1].slim).toBe(LIMIT + 4);
      for (const fe of after) expect(fe.slim).toBeGreaterThanOrEqual(fe.scur);
    },
    60_000,
  );
});
