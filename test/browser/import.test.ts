// "Import haproxy.cfg" on the console's config page (issue 9, point 5): paste a file, see the dry-run review
// with the warnings and their lines, apply it; and a refused file shows the API's refusal with its line. Debian's
// Chromium against the real app; the result is checked through the API.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { chromiumMissing, launchChromium, submitSignIn } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { freePort } from '../helpers/net.js';

const missing = chromiumMissing();
if (missing) console.log(`skipping the console haproxy.cfg import test: ${missing}`);

describe.skipIf(missing)('haproxy.cfg import in the console', () => {
  let tether: StartedApp;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    tether = await startApp();
    // Something in effect that the file does not have: the import replaces it.
    await tether.request
      .post('/api/v1/backends')
      .send({ name: 'old', balance: 'leastconn', check: { type: 'none' }, servers: [] })
      .expect(201);
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await page.goto(`${tether.url}/`);
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.locator('nav a[href="#/config"]').waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
  });

  it('pastes a file, reviews it with its warnings, and applies it as a revision of kind import', async () => {
    const frontendPort = await freePort();
    const serverPort = await freePort();
    const cfg = [
      '# a small haproxy.cfg',
      'frontend smpp_in',
      `    bind 127.0.0.1:${frontendPort}`,
      '    default_backend smsc',
      '',
      'backend smsc',
      '    frobnicate on',
      `    server s1 127.0.0.1:${serverPort}`,
      `    server s2 127.0.0.1:${serverPort} disabled`,
      '',
    ].join('\n');
    await page.goto(`${tether.url}/#/config`);
    await page.getByRole('button', { name: 'Import haproxy.cfg' }).click();
    await expect.poll(() => page.getByTestId('import-replaces').textContent()).toMatch(/replaces the whole/);
    await page.getByLabel('or paste its text').fill(cfg);
    await page.getByRole('button', { name: 'Review import' }).click();

    await page.locator('#review-title').waitFor({ timeout: 10_000 });
    expect(await page.locator('#review-title').textContent()).toBe('Review: import of haproxy.cfg');
    const warning = page.getByTestId('import-warnings').locator('tr[data-line="7"]');
    expect(await warning.locator('td').first().textContent()).toBe('7');
    expect(await warning.textContent()).toContain('frobnicate on');
    expect(await page.getByTestId('import-replaces').isVisible()).toBe(true);
    expect(await page.getByTestId('impact').textContent()).toContain(`127.0.0.1:${frontendPort}`);
    // The disabled server is said before applying: it will be in maint.
    expect(await page.getByTestId('import-maint').locator('li').count()).toBe(1);
    expect(
      await page.getByTestId('import-maint').locator('li[data-server="smsc/s2"]').textContent(),
    ).toContain('line 9');
    // Nothing applied by the dry run.
    expect((await tether.request.get('/api/v1/config').expect(200)).body.frontends).toEqual([]);

    await page.getByLabel(/Change message/).fill('moved from haproxy');
    await page.getByRole('button', { name: 'Apply change' }).click();
    await page.getByRole('button', { name: 'Import haproxy.cfg' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.banner-done').textContent()).toMatch(/haproxy.cfg imported — revision 2/);

    const config = (await tether.request.get('/api/v1/config').expect(200)).body;
    expect(config.revision).toBe(2);
    expect(config.frontends).toEqual([
      expect.objectContaining({
        name: 'smpp_in',
        bind: { address: '127.0.0.1', port: frontendPort },
        backend: 'smsc',
      }),
    ]);
    expect(config.backends.map((b: { name: string }) => b.name)).toEqual(['smsc']);
    const revision = (await tether.request.get('/api/v1/revisions/2').expect(200)).body;
    expect(revision).toMatchObject({ kind: 'import', message: 'moved from haproxy' });
    const stats = (await tether.request.get('/api/v1/stats').expect(200)).body as {
      backends: { name: string; servers: { name: string; adminState: string }[] }[];
    };
    const smsc = stats.backends.find((b) => b.name === 'smsc');
    expect(smsc?.servers.map((x) => [x.name, x.adminState])).toEqual([
      ['s1', 'ready'],
      ['s2', 'maint'],
    ]);
    expect(await page.locator('tr[data-frontend="smpp_in"]').isVisible()).toBe(true);
  }, 60_000);

  it('shows the refusal of a bad file with its line, and changes nothing', async () => {
    const cfg = [
      'frontend tcp_in',
      `    bind 127.0.0.1:${await freePort()}`,
      '    default_backend smsc',
      'backend smsc',
      `    server s1 127.0.0.1:${await freePort()}`,
      'listen stats',
      '    mode http',
      `    bind 127.0.0.1:${await freePort()}`,
      '    stats uri /',
    ].join('\n');
    await page.goto(`${tether.url}/#/config`);
    await page.getByRole('button', { name: 'Import haproxy.cfg' }).click();
    await page
      .getByLabel('haproxy.cfg file')
      .setInputFiles({ name: 'haproxy.cfg', mimeType: 'text/plain', buffer: Buffer.from(cfg) });
    await expect.poll(() => page.getByLabel('or paste its text').inputValue()).toBe(cfg);
    await page.getByLabel(/Strict: refuse the file/).check();
    await page.getByRole('button', { name: 'Review import' }).click();

    const refusal = page.getByTestId('import-refusal');
    await refusal.waitFor({ timeout: 10_000 });
    expect(await refusal.textContent()).toMatch(/line 6 \(listen stats\): .*refused in strict mode/);
    expect(await page.locator('#review-title').count()).toBe(0);
    expect(await page.locator('.banner-error').first().textContent()).toContain('line 6');
    expect((await tether.request.get('/api/v1/config').expect(200)).body.revision).toBe(2);
  }, 60_000);

  it('offers the import to admins only', async () => {
    await tether.request
      .post('/api/v1/users')
      .send({ username: 'op1', password: 'operator-password-1', role: 'operator' })
      .expect(201);
    const context = await browser!.newContext();
    try {
      const p = await context.newPage();
      await p.goto(`${tether.url}/`);
      await submitSignIn(p, 'op1', 'operator-password-1');
      await p.locator('nav a[href="#/config"]').waitFor();
      await p.goto(`${tether.url}/#/config`);
      const button = p.getByRole('button', { name: 'Import haproxy.cfg' });
      await button.waitFor();
      expect(await button.isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  }, 60_000);
});
