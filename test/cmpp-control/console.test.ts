// The console's share of the lossless close, in Debian's Chromium against the real app: the backend form offers
// onMarkedDown terminate and the CMPP close limit and keeps backend.cmpp on an edit; the SMS panel shows the
// messages counted as ambiguous per gateway and per account.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole } from '../helpers/console-setup.js';
import { freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

describe.skipIf(chromiumMissing())('console: lossless close settings and ambiguous messages', () => {
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
    await tether.request
      .post('/api/v1/backends')
      .send(backendBody('gw', [serverBody('gw1', gateway.port)], { cmpp: { closeTimeout: 700 } }))
      .expect(201);
    await tether.request
      .post('/api/v1/frontends')
      .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }))
      .expect(201);
    ({ browser, page } = await browserWithPage({ width: 1400, height: 900 }));
    await openConsole(page, tether);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await gateway?.close();
  });

  it('edits onMarkedDown to terminate and the close limit; backend.cmpp is kept', async () => {
    const t = tether!;
    await page.goto(`${t.url}/#/config`);
    await page.locator('[data-backend=gw]').getByRole('button', { name: 'Edit' }).click();
    const limit = page.getByLabel('CMPP close limit');
    expect(await limit.inputValue()).toBe('700ms');
    await page.getByLabel('When a server is marked DOWN').selectOption('terminate');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').waitFor();
    await page.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(async () => (await t.request.get('/api/v1/backends/gw')).body.onMarkedDown, { timeout: 5000 })
      .toBe('terminate');
    expect((await t.request.get('/api/v1/backends/gw')).body.cmpp).toEqual({ closeTimeout: 700 });

    await page.locator('[data-backend=gw]').getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('CMPP close limit').fill('3s');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').waitFor();
    await page.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(async () => (await t.request.get('/api/v1/backends/gw')).body.cmpp, { timeout: 5000 })
      .toEqual({ closeTimeout: 3000 });
  });

  it('shows the messages left ambiguous per gateway and per account', async () => {
    const t = tether!;
    const sp = await Sp.connect(port);
    expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
    gateway.hold = true;
    sp.socket.write(Buffer.concat([1, 2, 3].map((seq) => sp.submit(seq, '900001'))));
    await waitFor(() => gateway.received.filter((f) => f.commandId === CommandId.SUBMIT).length === 3);
    sp.socket.resetAndDestroy(); // a dead client leg: the 3 SUBMITs in flight are ambiguous
    await waitFor(async () => (await t.request.get('/api/v1/sessions')).body.length === 0, 5000);
    gateway.hold = false;
    gateway.release();
    await page.goto(`${t.url}/#/`);
    const account = page.locator('tr[data-account="900001"] td[data-label=ambiguous]');
    await expect.poll(() => account.textContent(), { timeout: 10_000 }).toBe('3');
    const perGateway = page.locator('tr[data-gateway="gw/gw1"] td[data-label=ambiguous]');
    await expect.poll(() => perGateway.textContent(), { timeout: 10_000 }).toBe('3');
  });
});
