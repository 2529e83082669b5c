// The console's "Retry bind" on a frontend that could not bind at boot: refused while the port is still
// taken (the banner names the errno), OPEN once it is free. Debian's Chromium against the real app.
import net from 'node:net';
import { once } from 'node:events';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { echo, freePort, listen, type TestServer } from '../helpers/net.js';

const missing = chromiumMissing();

describe.skipIf(missing)('Retry bind in the console', () => {
  const db = tempDbPath();
  let tether: StartedApp | undefined;
  let upstream: TestServer;
  let squatter: net.Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let port: number;

  beforeAll(async () => {
    ensureConsoleBuilt();
    upstream = await listen(echo);
    port = await freePort();
    tether = await startApp({ dbPath: db.dbPath });
    await postSmsRoute(tether.request, port, {});
    await tether.close();
    squatter = net.createServer();
    squatter.listen({ host: '127.0.0.1', port });
    await once(squatter, 'listening');
    tether = await startApp({ dbPath: db.dbPath });
    ({ browser, page } = await browserWithPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    squatter?.close();
    await upstream?.close();
    db.cleanup();
  });

  it('is refused while the port is taken and opens the frontend once it is free', async () => {
    await openConsole(page, tether!);
    const row = page.locator('tr.fe-row', { hasText: 'Frontend sms' });
    await row.waitFor();
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 10_000 }).toBe('FAILED');
    const retry = row.getByRole('button', { name: 'Retry bind' });

    await retry.click();
    await expect
      .poll(() => page.locator('.banner-error').first().textContent(), { timeout: 10_000 })
      .toContain('EADDRINUSE');

    await new Promise<void>((resolve) => squatter!.close(() => resolve()));
    squatter = undefined;
    await retry.click();
    await expect
      .poll(() => page.locator('.banner-done').first().textContent(), { timeout: 10_000 })
      .toContain(`listens on 127.0.0.1:${port}`);
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 10_000 }).toBe('OPEN');
    expect((await tether!.request.get('/api/v1/frontends/sms')).body.status).toBe('OPEN');
  }, 60_000);
});
