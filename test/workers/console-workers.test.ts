// The console overview with worker processes: one row per worker (pid, state, sessions, restarts, lost
// sessions), updated live; a worker killed with -9 shows up as a restart and an event. Debian's Chromium
// against the real app running 2 workers.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole } from '../helpers/console-setup.js';
import { echo, listen, waitFor, type TestServer } from '../helpers/net.js';

const missing = chromiumMissing();

describe.skipIf(missing)('worker processes in the console', () => {
  let tether: StartedApp | undefined;
  let upstream: TestServer;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    upstream = await listen(echo);
    tether = await startApp({ env: { TETHER_WORKERS: '2' } });
    await waitFor(
      async () =>
        (await tether!.request.get('/api/v1/stats')).body.workers?.every(
          (w: { state: string }) => w.state === 'running',
        ),
      20_000,
      'workers',
    );
    ({ browser, page } = await browserWithPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await upstream?.close();
  });

  it('lists the workers and shows a killed one replaced', async () => {
    await openConsole(page, tether!);
    const table = page.getByRole('region', { name: 'Worker processes' });
    await table.waitFor();
    const workers = (await tether!.request.get('/api/v1/stats')).body.workers as Array<{
      id: number;
      pid: number;
    }>;
    const row = (id: number) => table.locator(`tr[data-worker="${id}"]`);
    for (const w of workers) {
      await expect
        .poll(() => row(w.id).locator('td').nth(1).textContent(), { timeout: 10_000 })
        .toBe(String(w.pid));
      expect(await row(w.id).locator('td').nth(2).textContent()).toBe('running');
    }

    process.kill(workers[0].pid, 'SIGKILL');
    await expect.poll(() => row(1).locator('td').nth(5).textContent(), { timeout: 10_000 }).toBe('1');
    await expect
      .poll(() => page.getByRole('list', { name: 'Recent events' }).textContent(), { timeout: 10_000 })
      .toContain(`worker 1 (pid ${workers[0].pid}) died (SIGKILL)`);
    await expect.poll(() => row(1).locator('td').nth(2).textContent(), { timeout: 10_000 }).toBe('running');
    expect(await row(1).locator('td').nth(1).textContent()).not.toBe(String(workers[0].pid));
  }, 60_000);
});
