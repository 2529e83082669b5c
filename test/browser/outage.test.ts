// Issue 13, point 1: when the appliance stops answering, the console says so within 3 s (since when, greyed
// figures) and disables every action with the reason; when it comes back from a restart (same database and port),
// it says when it restarted and how many sessions that dropped. The real app, closed and started again.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.factory.js';
import { settingsFromEnv } from '../../src/settings.js';
import { tempDbPath } from '../helpers/app.js';
import { adminClient, TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { chromiumMissing, launchChromium, submitSignIn } from '../helpers/chromium.js';
import {
  compileApp,
  startAppliance,
  untilListening,
  type ApplianceProcess,
  type CompiledApp,
} from '../helpers/compiled-app.js';
import { ensureConsoleBuilt, PROJECT_ROOT } from '../helpers/console-build.js';
import { connect, echo, freePort, listen, type TestServer } from '../helpers/net.js';

const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');
const missing = chromiumMissing();
if (missing) console.log(`skipping console outage tests: ${missing}`);

/** What the issue asks: the page shows the outage within 3 s of losing the API. */
const NOTICE_WITHIN_MS = 3000;

describe.skipIf(missing)('console when the appliance goes away and comes back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-outage-'));
  let port: number;
  let app: INestApplication | undefined;
  let backend: TestServer;
  const clients: Socket[] = [];
  let browser: Browser;
  let page: Page;
  let url: string;
  let frontendPort: number;

  async function start(): Promise<void> {
    const settings = settingsFromEnv({
      TETHER_LOG_LEVEL: 'error',
      TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      TETHER_DB: join(dir, 'tether.db'),
      TETHER_HTTP_HOST: '127.0.0.1',
      TETHER_HTTP_PORT: String(port),
      TETHER_SOCKET: 'off',
    });
    app = await createApp(settings);
    await app.listen(port, '127.0.0.1');
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    port = await freePort();
    await start();
    url = `http://127.0.0.1:${port}`;
    const api = await adminClient(url);
    backend = await listen(echo);
    frontendPort = await freePort();
    await api
      .post('/api/v1/backends')
      .send({
        name: 'gw',
        balance: 'roundrobin',
        servers: [{ name: 's1', address: '127.0.0.1', port: backend.port }],
      })
      .expect(201);
    await api
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port: frontendPort }, backend: 'gw' })
      .expect(201);
    for (let i = 2; i <= 4; i++) clients.push(await connect(frontendPort, { localAddress: `127.0.0.${i}` }));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${url}/`);
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.locator('tr.server-row[data-server=s1]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of clients) c.destroy();
    await app?.close();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks the figures stale and disables every action within 3 s, then reports the restart and the dropped sessions', async () => {
    const rollup = page.locator('[data-testid=rollup]');
    await expect.poll(() => rollup.textContent(), { timeout: 5000 }).toContain('3 sessions');
    const buttons = page.locator('main.page button');
    expect(await buttons.count()).toBeGreaterThan(0);
    expect(await page.locator('main.page button:disabled').count()).toBe(0);

    // A confirmation left open when the appliance goes can't act either.
    await page.locator('tr.server-row[data-server=s1]').getByRole('button', { name: 'Drain' }).click();
    const confirm = page.locator('dialog.confirm');
    await confirm.waitFor({ state: 'visible' });

    await app!.close();
    app = undefined;
    const lostAt = Date.now();
    const outage = page.locator('[data-testid=outage]');
    await outage.waitFor({ timeout: NOTICE_WITHIN_MS });
    expect(Date.now() - lostAt).toBeLessThanOrEqual(NOTICE_WITHIN_MS);
    expect(await outage.textContent()).toMatch(/Unreachable since \d\d:\d\d:\d\d.*actions are disabled/);
    // Greyed figures, still the last ones seen.
    expect(await rollup.textContent()).toContain('3 sessions');
    const look = (await page.evaluate(
      `(() => { const s = getComputedStyle(document.querySelector('main.page')); return { opacity: Number(s.opacity), filter: s.filter }; })()`,
    )) as { opacity: number; filter: string };
    expect(look.opacity).toBeLessThan(1);
    expect(look.filter).toContain('grayscale');
    // Every action disabled, with the reason on hover.
    expect(await page.locator('main.page button:enabled').count()).toBe(0);
    expect(await page.locator('main.page input:enabled').count()).toBe(0);
    expect(await page.locator('fieldset.page-lock').getAttribute('title')).toMatch(
      /has not answered since \d\d:\d\d:\d\d: actions are disabled/,
    );
    const confirmAct = confirm.getByRole('button', { name: 'Drain s1' });
    expect(await confirmAct.isDisabled()).toBe(true);
    expect(await confirmAct.getAttribute('title')).toContain('does not answer');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    const drain = page.locator('tr.server-row[data-server=s1]').getByRole('button', { name: 'Drain' });
    expect(await drain.isDisabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'console-unreachable.png') });

    // Back on the same database and port: the restart is named, with the sessions it dropped.
    const downFor = Date.now();
    await start();
    const restarted = page.locator('[data-testid=restarted]');
    await restarted.waitFor({ timeout: 10_000 });
    expect(await restarted.textContent()).toMatch(
      /restarted at \d\d:\d\d:\d\d; 3 sessions were dropped \(open when last seen at \d\d:\d\d:\d\d\)/,
    );
    expect(Date.now() - downFor).toBeLessThan(10_000);
    await outage.waitFor({ state: 'detached' });
    await expect.poll(() => drain.isEnabled()).toBe(true);
    expect(await page.locator('fieldset.page-lock').getAttribute('title')).toBeFalsy();
    await expect.poll(() => rollup.textContent()).toContain('0 sessions');
    await page.screenshot({ path: join(ARTIFACTS, 'console-restarted.png') });
    // The charts' history (what the Charts page loads) still holds the figures from before the restart.
    const history = (await page.evaluate(
      `fetch('/api/v1/stats/history', { credentials: 'same-origin' }).then((r) => r.json())`,
    )) as Array<{ t: number; frontends: Record<string, { scur: number }> }>;
    expect(history.some((s) => s.t < downFor && s.frontends.sms?.scur === 3)).toBe(true);
    // And the Charts page draws it: its history reaches back before the restart.
    await page.goto(`${url}/#/charts`);
    const charts = page.locator('div.charts');
    await charts.waitFor({ timeout: 10_000 });
    expect(Number(await charts.getAttribute('data-from'))).toBeLessThan(downFor);
    expect(await page.locator('section.chart-box[aria-label="Sessions per frontend"] canvas').count()).toBe(
      1,
    );
    await page.goto(`${url}/#/overview`);
  });

  it('still reports the restart when the console was left or reloaded during the outage', async () => {
    const rollup = page.locator('[data-testid=rollup]');
    // One client (the others are gone, or closed here when this test runs alone); after a restart the appliance
    // listens again once its boot has applied the stored config.
    for (const c of clients.splice(0)) c.destroy();
    await expect
      .poll(() => rollup.textContent(), { timeout: 10_000 })
      .toMatch(/1\/1 frontends open.*\D0 sessions/);
    clients.push(await connect(frontendPort, { localAddress: '127.0.0.9' }));
    await expect.poll(() => rollup.textContent(), { timeout: 5000 }).toContain('1 sessions');
    await app!.close();
    app = undefined;
    // The tab leaves the console during the outage (closed, or reloaded onto the browser's error page): its memory
    // is gone.
    await page.goto('about:blank');
    await start();
    await page.goto(`${url}/#/overview`);
    const restarted = page.locator('[data-testid=restarted]');
    await restarted.waitFor({ timeout: 10_000 });
    expect(await restarted.textContent()).toMatch(/restarted at \d\d:\d\d:\d\d; 1 session was dropped/);
  });
});

// A frozen appliance (SIGSTOP: connections are accepted by the kernel but nothing answers) gives no error to notice:
// the console must tell from the silence alone, and say nothing of a restart when the same process goes on.
describe.skipIf(missing)('console when the appliance hangs or is killed', () => {
  const db = tempDbPath();
  let compiled: CompiledApp | undefined;
  let appliance: ApplianceProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let httpPort: number;

  function startCompiled(): ApplianceProcess {
    return startAppliance(compiled!.main, {
      TETHER_DB: db.dbPath,
      TETHER_HTTP_HOST: '127.0.0.1',
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      TETHER_LOG_LEVEL: 'log',
      TETHER_SOCKET: 'off',
      TETHER_WORKERS: '0',
      // The compiled files live under node_modules/.cache: name the built console.
      TETHER_WEB_ROOT: join(PROJECT_ROOT, 'web', 'dist'),
    });
  }

  afterAll(async () => {
    await browser?.close();
    if (appliance && appliance.child.exitCode === null && appliance.child.signalCode === null) {
      appliance.child.kill('SIGCONT');
      appliance.child.kill('SIGKILL');
      await appliance.exited;
    }
    compiled?.remove();
    db.cleanup();
  });

  it('marks it unreachable within 3 s of its silence, and clears that without a restart notice when it resumes', async () => {
    ensureConsoleBuilt();
    compiled = await compileApp();
    httpPort = await freePort();
    appliance = startCompiled();
    await untilListening(appliance);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`http://127.0.0.1:${httpPort}/`);
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.locator('[data-testid=rollup]').waitFor();
    await page.locator('.live-live').waitFor({ timeout: 10_000 });

    appliance.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const outage = page.locator('[data-testid=outage]');
    await outage.waitFor({ timeout: NOTICE_WITHIN_MS + 1000 });
    // The bound the issue sets, plus 0.5 s for a loaded machine (the console reacts after 2 s of silence, checked every 0.25 s).
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(NOTICE_WITHIN_MS + 500);
    expect(await page.locator('main.page button:enabled').count()).toBe(0);

    appliance.child.kill('SIGCONT');
    await outage.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.locator('[data-testid=restarted]').count()).toBe(0);
  });

  it('kill -9 (as the issue did): unreachable within 3 s, every action disabled; started again, the restart is named', async () => {
    expect(appliance, 'the test before started it').toBeDefined();
    // Two live clients through it, as the SPs of the issue.
    const url = `http://127.0.0.1:${httpPort}`;
    const api = await adminClient(url);
    const upstream = await listen(echo);
    const port = await freePort();
    await api
      .post('/api/v1/backends')
      .send({ name: 'gw', servers: [{ name: 's1', address: '127.0.0.1', port: upstream.port }] })
      .expect(201);
    await api
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port }, backend: 'gw' })
      .expect(201);
    const sps = [await connect(port), await connect(port, { localAddress: '127.0.0.2' })];
    const rollup = page.locator('[data-testid=rollup]');
    await expect.poll(() => rollup.textContent(), { timeout: 5000 }).toContain('2 sessions');
    const outage = page.locator('[data-testid=outage]');
    appliance!.child.kill('SIGKILL');
    const killedAt = Date.now();
    await appliance!.exited;
    await outage.waitFor({ timeout: NOTICE_WITHIN_MS });
    expect(Date.now() - killedAt).toBeLessThanOrEqual(NOTICE_WITHIN_MS);
    expect(await outage.textContent()).toMatch(/Unreachable since \d\d:\d\d:\d\d/);
    expect(await page.locator('main.page button:enabled').count()).toBe(0);
    expect(await page.locator('main.page input:enabled').count()).toBe(0);

    appliance = startCompiled();
    await untilListening(appliance);
    const restarted = page.locator('[data-testid=restarted]');
    await restarted.waitFor({ timeout: 15_000 });
    expect(await restarted.textContent()).toMatch(/restarted at \d\d:\d\d:\d\d; 2 sessions were dropped/);
    for (const sp of sps) sp.destroy();
    await upstream.close();
    await outage.waitFor({ state: 'detached' });
    // The stored log says it too: two starts of the appliance.
    await page.goto(`http://127.0.0.1:${httpPort}/#/events?type=appliance-start`);
    await expect.poll(() => page.locator('tr[data-event]').count(), { timeout: 10_000 }).toBe(2);
  });
});
