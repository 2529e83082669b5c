// The console's bind-list editor (issue 9, point 1): a frontend gets a second bind in the form, the review shows
// the listener it opens, the apply makes both addresses serve. Debian's Chromium against the real app, real
// sockets on 127.0.0.1 and 127.0.0.2.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { closed, connect, echo, freePort, listen, readBytes, type TestServer } from '../helpers/net.js';

const missing = chromiumMissing();

/** A client of host:port gets its bytes echoed through the proxy. */
async function echoes(host: string, port: number): Promise<boolean> {
  try {
    const client = await connect(port, { host });
    client.write('ping');
    const back = (await readBytes(client, 4)).toString();
    client.end();
    await closed(client);
    return back === 'ping';
  } catch {
    return false;
  }
}

describe.skipIf(missing)('the bind list in the console', () => {
  let tether: StartedApp;
  let upstream: TestServer;
  let browser: Browser | undefined;
  let page: Page;
  let first: number;
  let second: number;

  beforeAll(async () => {
    ensureConsoleBuilt();
    upstream = await listen(echo);
    [first, second] = [await freePort(), await freePort('127.0.0.2')];
    tether = await startApp();
    await postSmsRoute(tether.request, first, { s1: upstream.port });
    ({ browser, page } = await browserWithPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await upstream?.close();
  });

  it('adds a second bind, reviews the listener it opens, applies, and both addresses serve', async () => {
    expect(await echoes('127.0.0.2', second)).toBe(false);
    await openConsole(page, tether, '/#/config');
    await page.locator('tr[data-frontend=sms]').getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('add-bind').click();
    const address2 = page.getByLabel('Bind address 2', { exact: true });
    // A new row starts from the first bind's address.
    expect(await address2.inputValue()).toBe('127.0.0.1');
    await address2.fill('127.0.0.2');
    await page.getByLabel('Port 2', { exact: true }).fill(String(second));
    await page.getByRole('button', { name: 'Review changes' }).click();

    const review = page.locator('form.review');
    await review.waitFor({ timeout: 10_000 });
    await expect
      .poll(() => review.locator('[data-testid=impact]').textContent(), { timeout: 10_000 })
      .toContain('Opens listener sms');
    await expect.poll(() => review.locator('table.changes').textContent()).toContain('frontends[sms].binds');
    await review.getByLabel(/Change message/).fill('sms on a second address');
    await review.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('.banner-done').first().textContent(), { timeout: 10_000 })
      .toContain('frontend sms changed');

    const stored = (await tether.request.get('/api/v1/frontends/sms').expect(200)).body;
    expect(stored.binds).toEqual([
      { address: '127.0.0.1', port: first },
      { address: '127.0.0.2', port: second },
    ]);
    expect(await echoes('127.0.0.1', first)).toBe(true);
    expect(await echoes('127.0.0.2', second)).toBe(true);
  }, 60_000);
});
