// The console's per-account table shows the logins Tether refused itself (issue 12 points 3 and 5): a cap of 1,
// a second login of the account refused with status 5, the count in the account's row. Debian's Chromium.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/cmpp/codec.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { freePort } from '../helpers/net.js';

describe.skipIf(chromiumMissing())('refused logins in the console', () => {
  let tether: StartedApp | undefined;
  let gateway: Gateway;
  let browser: Browser | undefined;
  let page: Page;
  let port: number;

  beforeAll(async () => {
    ensureConsoleBuilt();
    gateway = await cmppGateway();
    port = await freePort();
    tether = await startApp();
    await postSmsRoute(tether.request, port, { gw1: gateway.port }, { inspect: 'cmpp' });
    await tether.request
      .patch('/api/v1/backends/gw')
      .send({ cmpp: { maxConnectionsPerAccount: 1 } })
      .expect(200);
    ({ browser, page } = await browserWithPage({ width: 1400, height: 900 }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await gateway?.close();
  });

  it("shows an account's refusals at its cap in its row", async () => {
    const first = await Sp.connect(port);
    const second = await Sp.connect(port);
    try {
      expect(decodeFrame((await first.login('900001')).bytes)).toMatchObject({ status: 0 });
      expect(decodeFrame((await second.login('900001')).bytes)).toMatchObject({ status: 5 });
      await openConsole(page, tether!);
      const row = page.locator('section.sms tr[data-account="900001"]');
      await row.waitFor();
      await expect.poll(() => row.locator('td[data-label="Tether refused"]').textContent()).toBe('1 / 0');
      expect(await row.locator('td[data-label="logins"]').textContent()).toBe('2');
    } finally {
      first.close();
      second.close();
    }
  });

  it('shows the limits on the config page, and saving the backend form keeps them (the form does not edit them)', async () => {
    await page.goto(`${tether!.url}/#/config`);
    const line = page.locator('[data-backend=gw]');
    await line.waitFor();
    expect(await line.textContent()).toContain('CMPP limits: 1 per account');
    await line.getByRole('button', { name: 'Edit' }).click();
    await page.locator('#be-form-title').waitFor();
    await page.locator('input[name="check.inter"]').fill('3s');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('.banner-done').first().textContent(), { timeout: 5000 })
      .toContain('backend gw changed');
    const gw = (await tether!.request.get('/api/v1/backends/gw').expect(200)).body;
    expect(gw.check.inter).toBe(3000);
    expect(gw.cmpp).toEqual({ maxConnectionsPerAccount: 1 });
  });
});
