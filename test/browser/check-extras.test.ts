// Issue 9 in the console: a backend whose check has tcp-check steps, fastinter/downinter and a check port (set by
// the API or an import) shows them in its form ("check: tcp-check, 2 steps, …, port N"), and an edit of another
// field in that form keeps them: the form sends the whole backend. Debian's Chromium against the real app.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole } from '../helpers/console-setup.js';

const missing = chromiumMissing();
const STEPS = [{ send: 'PING\r\n' }, { expect: { string: '+PONG' } }];

describe.skipIf(missing)('check settings the backend form does not edit', () => {
  let tether: StartedApp;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    tether = await startApp();
    const created = await tether.request.post('/api/v1/backends').send({
      name: 'redis',
      balance: 'roundrobin',
      check: { type: 'tcp', inter: '5s', fastinter: '500ms', downinter: '10s', steps: STEPS },
      servers: [{ name: 'r1', address: '127.0.0.1', port: 6379, checkPort: 6380, check: false }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ({ browser, page } = await browserWithPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
  });

  it('shows them and keeps them through an edit of the balance', async () => {
    await openConsole(page, tether, '/#/config');
    const summary = page.locator('[data-backend=redis]');
    await expect
      .poll(() => summary.locator('h3').textContent(), { timeout: 10_000 })
      .toContain('(tcp-check, 2 steps, fastinter 500ms, downinter 10s, port 6380)');
    expect(await summary.locator('td[data-label=Checked]').textContent()).toBe('no (port 6380)');
    await page.locator('[data-backend=redis]').getByRole('button', { name: 'Edit' }).click();
    await expect
      .poll(() => page.getByTestId('check-extras').textContent(), { timeout: 10_000 })
      .toContain('check: tcp-check, 2 steps, fastinter 500ms, downinter 10s, port 6380');
    await page.getByLabel('Balance').selectOption('leastconn');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const review = page.locator('form.review');
    await review.waitFor({ timeout: 10_000 });
    await review.getByLabel(/Change message/).fill('leastconn');
    await review.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('.banner-done').first().textContent(), { timeout: 10_000 })
      .toContain('backend redis changed');
    const stored = (await tether.request.get('/api/v1/backends/redis').expect(200)).body;
    expect(stored).toMatchObject({
      balance: 'leastconn',
      check: { fastinter: 500, downinter: 10000, steps: STEPS },
      servers: [{ name: 'r1', checkPort: 6380 }],
    });
  });
});
