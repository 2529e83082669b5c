// The per-account CMPP table holds up to 10,001 rows, and SP clients (not operators) decide how many: building
// it costs ~100 ms on the data plane's thread and ~7 MB per worker over IPC. Only GET /stats and /metrics show it,
// so every other stats() caller (the once-a-second stream of each open console, the stored chart samples,
// the runtime socket, REST answers) asks for none, in process and across worker processes.
import { firstValueFrom, NEVER } from 'rxjs';
import { afterEach, expect, it } from 'vitest';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { RuntimeStats, StatsOptions } from '../../src/runtime/types.js';
import { statsStream } from '../../src/stats/stats-stream.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { cmppGateway, Sp } from '../helpers/cmpp-peers.js';
import { backend, freePort, frontend, server, snapshot, waitFor } from '../helpers/net.js';
import { allRunning } from '../workers/pool-helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Logs in two SP accounts through `port` (an inspected frontend) and leaves the sessions open. */
async function twoAccounts(port: number): Promise<void> {
  for (const [i, account] of ['900001', '900002'].entries()) {
    const sp = await Sp.connect(port, `127.0.0.${30 + i}`);
    cleanups.push(() => sp.close());
    await sp.login(account);
  }
}

async function inspected() {
  const gateway = await cmppGateway();
  cleanups.push(() => gateway.close());
  const port = await freePort();
  return {
    port,
    config: snapshot(
      [frontend('sms', port, 'gw', { inspect: 'cmpp' })],
      [backend('gw', [server('gw1', gateway.port)])],
    ),
  };
}

const accountsOf = (stats: RuntimeStats) => stats.cmppAccounts?.map((a) => a.account);

it('the runtime builds the account table only when asked', async () => {
  const { port, config } = await inspected();
  const rt = new ProxyRuntime();
  cleanups.push(() => rt.close());
  await rt.apply(config);
  await twoAccounts(port);
  expect(accountsOf(await rt.stats())).toEqual(['900001', '900002']);
  const without = await rt.stats({ cmppAccounts: false });
  expect(without.cmppAccounts).toBeUndefined();
  expect(without.frontends[0].cmpp?.sessions).toBe(2);
});

it('worker processes get the option over IPC', async () => {
  const { port, config } = await inspected();
  const pool = new WorkerPool({ workers: 2, log: () => {} });
  cleanups.push(() => pool.close());
  await waitFor(() => allRunning(pool.workerStats(), 2), 30_000, '2 running workers');
  await pool.apply(config);
  await twoAccounts(port);
  expect(accountsOf(await pool.stats())).toEqual(['900001', '900002']);
  expect((await pool.stats({ cmppAccounts: false })).cmppAccounts).toBeUndefined();
}, 60_000);

it('the once-a-second stats stream asks for no account table', async () => {
  const asked: Array<StatsOptions | undefined> = [];
  const rt = new ProxyRuntime();
  cleanups.push(() => rt.close());
  const first = await firstValueFrom(
    statsStream({
      stats: (options) => {
        asked.push(options);
        return rt.stats(options);
      },
      events: () => NEVER,
    }),
  );
  expect(first.type).toBe('stats');
  expect(asked).toEqual([{ cmppAccounts: false }]);
});
