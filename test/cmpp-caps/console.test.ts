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
});
