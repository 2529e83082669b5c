// The console's drain with a deadline, in Debian's Chromium against the real app (real HTTP, SQLite, loopback
// backends): the drain dialog's deadline option, then the row's progress to the end — sessions left, the oldest's
// age, time to the deadline, the next state — until the deadline closes the sessions and the server is MAINT.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { chromiumMissing, launchChromium, submitSignIn } from '../helpers/chromium.js';
import { ensureConsoleBuilt, PROJECT_ROOT } from '../helpers/console-build.js';
import { closed, connect, echo, freePort, listen, waitFor, type TestServer } from '../helpers/net.js';
import type { ServerStats } from '../../src/runtime/types.js';

const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');
const missing = chromiumMissing();

describe.skipIf(missing)('console: drain with a deadline', () => {
  let dir: string;
  let tether: StartedApp;
  let backends: TestServer[] = [];
  const clients: Socket[] = [];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'tether-console-drain-'));
    tether = await startApp({ dbPath: join(dir, 'tether.db') });
    backends = [await listen(echo), await listen(echo)];
    const port = await freePort();
    await tether.request
      .post('/api/v1/backends')
      .send({
        name: 'gw',
        balance: 'roundrobin',
        check: { type: 'none' },
        servers: backends.map((b, i) => ({ name: `s${i + 1}`, address: '127.0.0.1', port: b.port })),
      })
      .expect(201);
    await tether.request
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port }, backend: 'gw' })
      .expect(201);
    for (let i = 2; i <= 5; i++) clients.push(await connect(port, { localAddress: `127.0.0.${i}` }));
    await waitFor(async () => (await server('s2')).scur === 2, 5000, 'two sessions on s2');
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${tether.url}/`);
    await page.locator('main.login form').waitFor();
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await row('s2').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of clients) c.destroy();
    await tether?.close();
    await Promise.all(backends.map((b) => b.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const row = (name: string) => page.locator(`tr.server-row[data-server="${name}"]`);
  const progress = () => row('s2').locator('[data-testid=drain-progress]');

  async function server(name: string): Promise<ServerStats> {
    const stats = await tether.request.get('/api/v1/stats').expect(200);
    return (stats.body.backends[0].servers as ServerStats[]).find((s) => s.name === name)!;
  }

  it('starts a drain with a deadline from the dialog and shows its progress to the end', async () => {
    await row('s2').getByRole('button', { name: 'Drain' }).click();
    const dialog = page.locator('dialog.confirm');
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByTestId('drain-with-deadline').check();
    await dialog.getByTestId('drain-deadline-minutes').fill('0.1'); // 6 s
    await dialog.getByTestId('drain-then').selectOption('maint');
    await page.screenshot({ path: join(ARTIFACTS, 'console-drain-dialog.png') });
    await dialog.getByRole('button', { name: 'Drain s2' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // The API got the deadline and then.
    const drain = (await server('s2')).drain;
    expect(drain).toMatchObject({ then: 'maint', sessionsLeft: 2 });
    expect(drain!.deadlineAt! - drain!.startedAt).toBe(6000);
    await expect
      .poll(() => page.locator('.banner-done').first().textContent())
      .toContain('gw/s2 READY → DRAIN, deadline in 6.0 s then MAINT');

    // The row: sessions left, the oldest's age, time to the deadline, the next state, a bar.
    await expect.poll(() => progress().textContent(), { timeout: 5000 }).toMatch(/2 left · oldest \d/);
    await expect.poll(() => progress().textContent()).toMatch(/\d(\.\d)? s to deadline/);
    expect(await progress().textContent()).toContain('→ MAINT');
    const bar = progress().locator('progress');
    expect(Number(await bar.getAttribute('max'))).toBe(6000);
    await expect
      .poll(async () => Number(await bar.getAttribute('value')), { timeout: 5000 })
      .toBeGreaterThan(1000);
    expect(await page.locator('[data-testid=drain-chip]').textContent()).toBe('1 DRAIN · 2 sessions left');
    await page.screenshot({ path: join(ARTIFACTS, 'console-drain-progress.png'), fullPage: true });

    // One of its clients leaves by itself: one left.
    const onS2 = (await tether.request.get('/api/v1/sessions').expect(200)).body.filter(
      (s: { server: string }) => s.server === 's2',
    ) as Array<{ clientAddress: string; clientPort: number }>;
    const leaving = clients.find((c) => c.localPort === onS2[0].clientPort)!;
    leaving.destroy();
    await expect.poll(() => progress().textContent(), { timeout: 5000 }).toMatch(/^1 left · oldest/);

    // The deadline closes the last one; the server moves to MAINT by itself and the progress goes.
    const last = clients.find((c) => c.localPort === onS2[1].clientPort)!;
    await closed(last, 15_000);
    await expect
      .poll(() => row('s2').locator('[data-testid=admin]').textContent(), { timeout: 10_000 })
      .toBe('MAINT');
    expect(await progress().count()).toBe(0);
    expect(await page.locator('[data-testid=drain-chip]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'console-drain-done.png'), fullPage: true });
  });
});
