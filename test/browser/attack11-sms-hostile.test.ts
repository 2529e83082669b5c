// Issue 11, attacked from outside (session 7): SP accounts a client chose to be hostile to a web page (HTML,
// quotes, a comment opener, a newline) shown by the console's SMS account table and sessions list, in Debian's
// Chromium, as text: no element, script or dialog comes of them. The account table is read as its 50 busiest
// rows (GET /stats?accounts=50), not the whole table.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { freePort } from '../helpers/net.js';

const missing = chromiumMissing();
/** At most 6 bytes each (Source_Addr): enough to open a tag, close a cell, start a comment or an attribute. */
const HOSTILE = ['<b>x', '"><i>', '</th>', '<!--', "a'\nb", '&lt;'];

describe.skipIf(missing)('hostile SP accounts in the console', () => {
  let tether: StartedApp | undefined;
  let gateway: Gateway;
  let browser: Browser | undefined;
  let page: Page;
  let port: number;
  const sps: Sp[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    gateway = await cmppGateway();
    port = await freePort();
    tether = await startApp();
    await postSmsRoute(tether.request, port, { gw1: gateway.port }, { inspect: 'cmpp' });
    ({ browser, page } = await browserWithPage({ width: 1400, height: 900 }));
  }, 120_000);

  afterAll(async () => {
    for (const sp of sps) sp.close();
    await browser?.close();
    await tether?.close();
    await gateway?.close();
  });

  it('shows them as text in the account table and the sessions list', async () => {
    for (const [i, account] of HOSTILE.entries()) {
      const sp = await Sp.connect(port, `127.0.0.${50 + i}`);
      sps.push(sp);
      expect((await sp.login(account)).commandId).toBe(CommandId.CONNECT_RESP);
      sp.socket.write(sp.submit(2, account));
      await sp.next(1);
    }
    const dialogs: string[] = [];
    const errors: string[] = [];
    const accountReads: Array<{ url: string; bytes: number }> = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.url().includes('/api/v1/stats?'))
        void r.body().then((b) => accountReads.push({ url: r.url(), bytes: b.length }));
    });

    await openConsole(page, tether!);
    const table = page.locator('section.sms table.sms-accounts');
    await table.waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(HOSTILE.length);
    const names = await table.locator('tbody tr th').allTextContents();
    expect(names.sort()).toEqual([...HOSTILE].sort());
    // No element was made of an account: only the console's own markup.
    expect(await page.locator('section.sms b, section.sms i').count()).toBe(0);
    expect(await page.locator('section.sms table.sms-accounts tbody tr > *').count()).toBe(
      HOSTILE.length * 12,
    );
    expect(accountReads.some((r) => r.url.endsWith('/api/v1/stats?accounts=50'))).toBe(true);

    // Signed in already: straight to the page.
    await page.goto(`${tether!.url}/#sessions`);
    const cells = page.locator('span.cmpp-session');
    await expect.poll(() => cells.count()).toBe(HOSTILE.length);
    const shown = (await cells.allTextContents()).join('\n');
    for (const account of HOSTILE) expect(shown).toContain(`· ${account}`);
    // The page's own <b> (the count above the table) aside, no element was made of an account.
    expect(await page.locator('main table b, main table i').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);
});
