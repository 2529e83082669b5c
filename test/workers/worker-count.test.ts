// TETHER_WORKERS unset: the number of cores, raised to what defaults.maxconn needs under the open-file limit,
// and the log says why (docs/workers.md, "How many"). The compiled appliance under `ulimit -n 1024` with
// defaults.maxconn 2000: 4,000 descriptors, 949 usable per process -> 5 workers (when the machine has fewer cores).
import { availableParallelism } from 'node:os';
import { afterAll, expect, it } from 'vitest';
import { tempDbPath } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD, adminClient } from '../helpers/auth.js';
import { compileApp, startAppliance, untilListening, type CompiledApp } from '../helpers/compiled-app.js';
import { freePort, listen, named, sleep } from '../helpers/net.js';
import { appWithStoredRoute } from '../helpers/stored-route.js';

const db = tempDbPath();
let compiled: CompiledApp | undefined;
afterAll(() => {
  compiled?.remove();
  db.cleanup();
});

it('raises the number of workers to what defaults.maxconn needs, says so at start, and splits maxconn over them', async () => {
  compiled = await compileApp();
  const upstream = await listen(named('up'));
  const httpPort = await freePort();
  const setup = await appWithStoredRoute(db.dbPath, upstream.port, await freePort());
  const config = (await setup.request.get('/api/v1/config').expect(200)).body;
  config.defaults.maxconn = 2000;
  const put = await setup.request.put('/api/v1/config').send(config);
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  await setup.close();

  const cores = availableParallelism();
  const expected = Math.max(cores, Math.ceil((2 * 2000) / (1024 - 64)));
  const appliance = startAppliance(
    compiled.main,
    {
      TETHER_DB: db.dbPath,
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_LOG_LEVEL: 'log',
      TETHER_WORKERS: 'auto',
      TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    },
    { openFiles: 1024 },
  );
  try {
    await untilListening(appliance);
    const url = `http://127.0.0.1:${httpPort}`;
    const api = await adminClient(url);
    let stats = (await api.get('/api/v1/stats').expect(200)).body;
    for (
      let i = 0;
      i < 400 && stats.workers.filter((w: { state: string }) => w.state === 'running').length < expected;
      i++
    ) {
      await sleep(50);
      stats = (await api.get('/api/v1/stats').expect(200)).body;
    }
    const output = appliance.output();
    expect(output).toContain(
      `workers: ${cores} (${cores} cores; raised later if defaults.maxconn needs more)`,
    );
    if (expected > cores) {
      expect(output).toContain(
        `workers: ${expected} (raised from ${cores} cores: defaults.maxconn 2000 needs 4000 descriptors, 949 usable per process (open-file limit 1024))`,
      );
    }
    expect(stats.workers.map((w: { state: string }) => w.state)).toEqual(Array(expected).fill('running'));
    // The shares add up to the appliance's limit.
    expect(stats.frontends[0].slim).toBe(2000);
  } finally {
    appliance.child.kill('SIGKILL');
    await upstream.close();
  }
});
