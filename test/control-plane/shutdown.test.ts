// The appliance as `npm start` runs it (src/main.ts, compiled): prints its URLs, applies the stored
// config at boot, and on SIGTERM closes everything — counting the client connections it cut — and
// exits 0 within 10 s, leaving the database consistent.
import { afterAll, expect, it } from 'vitest';
import { startApp, tempDbPath } from '../helpers/app.js';
import { compileApp, startAppliance, untilListening, type CompiledApp } from '../helpers/compiled-app.js';
import { closed, connect, freePort, listen, named, readLine } from '../helpers/net.js';
import { appWithStoredRoute } from '../helpers/stored-route.js';
import { accepts } from './fixtures.js';

const db = tempDbPath();
let compiled: CompiledApp | undefined;

afterAll(() => {
  compiled?.remove();
  db.cleanup();
});

it('boots the stored config, prints its URLs, and on SIGTERM exits 0 within 10 s counting the connections it closed', async () => {
  compiled = await compileApp();
  const upstream = await listen(named('up'));
  const port = await freePort();
  const httpPort = await freePort();

  // Store a config with the real app, as an operator would have done before the restart.
  const setup = await appWithStoredRoute(db.dbPath, upstream.port, port);
  const revision = (await setup.request.get('/api/v1/config')).body.revision;
  await setup.close();

  const appliance = startAppliance(compiled.main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(httpPort),
    TETHER_LOG_LEVEL: 'log',
  });
  const { child, exited } = appliance;
  try {
    await untilListening(appliance);
    const output = appliance.output();
    // Which listener paths this process uses is said at start (docs/runtime-hot-path.md).
    expect(output).toMatch(
      /listeners: pause=readstop \(self-test passed\), accept=onread \(self-test passed\)/,
    );
    expect(output).toContain(`REST API http://127.0.0.1:${httpPort}/api/v1`);
    expect(output).toContain(`API docs http://127.0.0.1:${httpPort}/api/docs`);
    expect(output).toContain(`Console  http://127.0.0.1:${httpPort}/`);

    const clients = [await connect(port), await connect(port)];
    for (const c of clients) expect(await readLine(c)).toBe('up');

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - signalledAt;
    expect(code, appliance.output()).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(appliance.output()).toContain('2 client connection(s) closed');
    await Promise.all(clients.map((c) => closed(c)));
    expect(await accepts(port)).toBe(false);
    console.log(`SIGTERM → exit 0 in ${took} ms`);
  } finally {
    child.kill('SIGKILL');
    await upstream.close();
  }

  // The database is consistent: the same revision comes back.
  const after = await startApp({ dbPath: db.dbPath });
  expect((await after.request.get('/api/v1/config')).body.revision).toBe(revision);
  await after.close();
});
