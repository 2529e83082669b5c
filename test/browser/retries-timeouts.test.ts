// A backend's retries, redispatch and own timeouts, and a frontend's own timeout client, in the console: shown on
// the config page, and kept when a form saves the whole object with another field edited (the forms send whole
// objects: a field they don't carry would be cleared). Debian's Chromium against the real app.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { echo, freePort, listen, type TestServer } from '../helpers/net.js';

const missing = chromiumMissing();

describe.skipIf(missing)('retries and section timeouts in the console', () => {
  let tether: StartedApp;
  let upstream: TestServer;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    upstream = await listen(echo);
    tether = await startApp({ env: { TETHER_SOCKET: 'off' } });
    await postSmsRoute(
      tether.request,
      await freePort(),
      { s1: upstream.port },
      { timeouts: { client: '30s' } },
    );
    const config = (await tether.request.get('/api/v1/config').expect(200)).body;
    await tether.request
      .put('/api/v1/config')
      .send({
        defaults: { ...config.defaults, timeouts: { ...config.defaults.timeouts, tunnel: '2h' } },
        frontends: config.frontends,
        backends: config.backends,
      })
      .expect(200);
    await tether.request
      .patch('/api/v1/backends/gw')
      .send({ retries: 3, redispatch: false, timeouts: { connect: '2s', tunnel: '1h' } })
      .expect(200);
    ({ browser, page } = await browserWithPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await upstream?.close();
  });

  async function apply(): Promise<void> {
    await page.getByRole('button', { name: 'Review changes' }).click();
    const review = page.locator('form.review');
    await review.waitFor({ timeout: 10_000 });
    await review.getByRole('button', { name: 'Apply change' }).click();
    await review.waitFor({ state: 'detached', timeout: 10_000 });
  }

  it('shows them, and keeps them when the forms save another edit', async () => {
    await openConsole(page, tether, '/#/config');
    const backend = page.locator('[data-backend=gw] h3');
    await expect
      .poll(() => backend.textContent(), { timeout: 10_000 })
      .toMatch(/retries 3, no redispatch · timeouts: connect 2s, tunnel 1h/);
    await expect
      .poll(() => page.locator('tr[data-frontend=sms]').textContent())
      .toContain('timeouts: client 30s');

    // The backend form: only the server timeout is added.
    await page.locator('[data-backend=gw]').getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Timeout server').fill('90s');
    await apply();
    const gw = (await tether.request.get('/api/v1/backends/gw').expect(200)).body;
    expect(gw).toMatchObject({
      retries: 3,
      redispatch: false,
      timeouts: { connect: 2000, server: 90_000, tunnel: 3_600_000 },
    });

    // The frontend form: only maxconn is edited.
    await page.locator('tr[data-frontend=sms]').getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Max connections').fill('500');
    await apply();
    const sms = (await tether.request.get('/api/v1/frontends/sms').expect(200)).body;
    expect(sms).toMatchObject({ maxconn: 500, timeouts: { client: 30_000 } });
  }, 60_000);
});
