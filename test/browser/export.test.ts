// "Download as haproxy.cfg" on the console's config page, and a revision's haproxy.cfg in History (issue 9,
// point 5): real downloads in Debian's Chromium from the real app, checked against the API's own export.
import { readFileSync } from 'node:fs';
import type { Browser, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { chromiumMissing, launchChromium, submitSignIn } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { freePort } from '../helpers/net.js';

const missing = chromiumMissing();
if (missing) console.log(`skipping the console haproxy.cfg download test: ${missing}`);

/** The text of a finished download. */
async function textOf(download: Download): Promise<string> {
  const path = await download.path();
  return readFileSync(path, 'utf8');
}

/** The file without its `# at <time>` line, which differs between two exports of one revision. */
const timeless = (text: string) => text.replace(/^# at .*$/m, '');

describe.skipIf(missing)('haproxy.cfg downloads in the console', () => {
  let tether: StartedApp;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    tether = await startApp();
    await tether.request
      .post('/api/v1/backends')
      .send({ name: 'gw', balance: 'leastconn', check: { type: 'none' }, servers: [] })
      .expect(201);
    await tether.request
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port: await freePort() }, backend: 'gw' })
      .expect(201);
    browser = await launchChromium();
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await page.goto(`${tether.url}/`);
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.locator('nav a[href="#/config"]').waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
  });

  it('downloads the config in effect from the config page', async () => {
    await page.goto(`${tether.url}/#/config`);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10_000 }),
      page.getByRole('link', { name: 'Download as haproxy.cfg' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('tether-r2.cfg');
    const text = await textOf(download);
    expect(text).toMatch(/^# haproxy.cfg exported by Tether from revision 2 /);
    expect(text).toContain('\nfrontend sms\n');
    const api = await tether.request.get('/api/v1/export/haproxy.cfg').expect(200);
    expect(timeless(text)).toBe(timeless(api.text));
  }, 60_000);

  it('downloads an older revision from History', async () => {
    await page.goto(`${tether.url}/#/history`);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10_000 }),
      page.getByRole('link', { name: 'Download revision 1 as haproxy.cfg' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('tether-r1.cfg');
    const text = await textOf(download);
    // Revision 1 holds the backend only.
    expect(text).toContain('\nbackend gw\n    balance leastconn\n');
    expect(text).not.toContain('frontend sms');
  }, 60_000);
});
