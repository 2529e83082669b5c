// Issue 13 (points 2, 4, 11, 12) in Debian's Chromium against the real app: the stored event log and its page,
// Cancel-first confirmations, signing in again without losing a draft, and the small things (one banner per page,
// the filter on addresses and ports, the legend on a phone, the Actions column at 1280 px).
import type { Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD } from '../helpers/auth.js';
import { chromiumMissing, launchChromium, submitSignIn } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { closeServer, listeningServer, portOf } from '../helpers/health-targets.js';
import { connect, echo, freePort, listen, type TestServer } from '../helpers/net.js';

const missing = chromiumMissing();
if (missing) console.log(`skipping console trust tests: ${missing}`);

/** Runs in the page: the text of the focused element. */
const focusedText = '(() => document.activeElement?.textContent?.trim() ?? "")()';

describe.skipIf(missing)('console trust in Chromium', () => {
  let tether: StartedApp;
  let url: string;
  let api: StartedApp['request'];
  let backends: TestServer[] = [];
  const clients: Socket[] = [];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let frontendPort: number;
  let initialConfig: { defaults: unknown; frontends: unknown[]; backends: unknown[] };

  const serverRow = (name: string) => page.locator(`tr.server-row[data-server="${name}"]`);
  const dialog = () => page.locator('dialog.confirm');

  async function serverStats(name: string) {
    const res = await api.get('/api/v1/stats');
    const gw = res.body.backends.find((b: { name: string }) => b.name === 'gw');
    return gw.servers.find((s: { name: string }) => s.name === name) as { scur: number; adminState: string };
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    tether = await startApp();
    url = tether.url;
    api = tether.request;
    backends = [await listen(echo), await listen(echo)];
    frontendPort = await freePort();
    await api
      .post('/api/v1/backends')
      .send({
        name: 'gw',
        balance: 'roundrobin',
        check: { type: 'tcp', inter: 500, fall: 2, rise: 1 },
        servers: backends.map((b, i) => ({
          name: `s${i + 1}`,
          address: '127.0.0.1',
          port: b.port,
          weight: 1,
        })),
      })
      .expect(201);
    await api
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port: frontendPort }, backend: 'gw', enabled: true })
      .expect(201);
    const { defaults, frontends, backends: configured } = (await api.get('/api/v1/config')).body;
    initialConfig = { defaults, frontends, backends: configured };
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
    await page.goto(`${url}/`);
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.locator('section.proxy').first().waitFor();
  });

  beforeEach(async () => {
    await api.put('/api/v1/config').send(initialConfig).expect(200);
    for (const server of ['s1', 's2'])
      await api.put(`/api/v1/backends/gw/servers/${server}/state`).send({ state: 'ready' }).expect(200);
    for (const c of clients.splice(0)) c.destroy();
    for (let i = 2; i <= 5; i++) clients.push(await connect(frontendPort, { localAddress: `127.0.0.${i}` }));
    await expect
      .poll(async () => [(await serverStats('s1')).scur, (await serverStats('s2')).scur], { timeout: 5000 })
      .toEqual([2, 2]);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${url}/#/overview`);
    await page.reload();
    await serverRow('s1').waitFor({ timeout: 10_000 });
  });

  afterEach(async () => {
    if (page && (await page.locator('dialog.confirm[open]').count()) > 0) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    for (const c of clients) c.destroy();
    await tether?.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  /**
   * "Enter twice" from a destructive button: the first Enter opens its confirmation, the second lands on Cancel,
   * which closes it; nothing happens.
   */
  async function enterTwiceCancels(button: ReturnType<Page['locator']>) {
    await button.focus();
    await page.keyboard.press('Enter');
    await dialog().waitFor({ state: 'visible' });
    expect(await page.evaluate(focusedText)).toBe('Cancel');
    await page.keyboard.press('Enter');
    await dialog().waitFor({ state: 'hidden' });
  }

  describe('point 4: destructive dialogs focus Cancel', () => {
    it('cut sessions: Enter twice from the button cuts nothing', async () => {
      await enterTwiceCancels(serverRow('s1').getByRole('button', { name: 'Cut 2 sessions' }));
      expect((await serverStats('s1')).scur).toBe(2);
    });

    it('maintenance with "also cut its sessions" ticked: Enter in the dialog does not act', async () => {
      await serverRow('s2').getByRole('button', { name: 'Maint' }).click();
      await dialog().waitFor({ state: 'visible' });
      expect(await page.evaluate(focusedText)).toBe('Cancel');
      const box = dialog().getByRole('checkbox');
      await box.check();
      await box.focus();
      // Enter in the checkbox would submit a plain form: here only the action button acts.
      await page.keyboard.press('Enter');
      await page.keyboard.press('Enter');
      expect(await dialog().isVisible()).toBe(true);
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'hidden' });
      expect(await serverStats('s2')).toMatchObject({ adminState: 'ready', scur: 2 });
    });

    it('kill a session and remove a frontend start on Cancel; a rollback review gives Enter nothing to apply', async () => {
      await page.goto(`${url}/#/sessions`);
      await page.locator('tr[data-session]').first().waitFor({ timeout: 5000 });
      await enterTwiceCancels(page.getByRole('button', { name: 'Kill' }).first());
      expect((await serverStats('s1')).scur + (await serverStats('s2')).scur).toBe(4);

      await page.goto(`${url}/#/config`);
      await enterTwiceCancels(page.locator('tr[data-frontend=sms]').getByRole('button', { name: 'Remove' }));
      expect(page.url()).toContain('#/config');
      expect(await page.locator('form.review').count()).toBe(0);

      // A revision to roll back to: the one before sms moved to another port.
      const head = (await api.get('/api/v1/config')).body.revision as number;
      await api
        .patch('/api/v1/frontends/sms')
        .send({ bind: { address: '127.0.0.1', port: await freePort() } })
        .expect(200);
      await page.goto(`${url}/#/history`);
      // A rollback opens its review (diff and impact, issue 13 point 3), which starts on Back.
      await page
        .locator(`tr[data-revision="${head}"]`)
        .getByRole('button', { name: `Roll back to #${head}` })
        .focus();
      await page.keyboard.press('Enter');
      await page.locator('form.review').waitFor({ timeout: 5000 });
      expect(await page.evaluate(focusedText)).toBe('Back');
      await page.keyboard.press('Enter');
      await page.locator('form.review').waitFor({ state: 'detached' });
      expect((await api.get('/api/v1/config')).body.frontends[0].bind.port).not.toBe(frontendPort);
    });
  });

  describe('point 2: the stored event log', () => {
    it('lists a DOWN with its check status, an admin state and a restart-proof overview line; filters by type', async () => {
      const target = await listeningServer();
      await api
        .post('/api/v1/backends')
        .send({
          name: 'flap',
          balance: 'roundrobin',
          check: { type: 'tcp', inter: 100, fall: 1, rise: 1 },
          servers: [{ name: 'f1', address: '127.0.0.1', port: portOf(target) }],
        })
        .expect(201);
      await expect
        .poll(
          async () =>
            (await api.get('/api/v1/stats')).body.backends.find((b: { name: string }) => b.name === 'flap')
              ?.servers[0].check_status,
          { timeout: 5000 },
        )
        .toBe('L4OK');
      await closeServer(target);
      await api.put('/api/v1/backends/gw/servers/s2/state').send({ state: 'drain' }).expect(200);
      // The page reads the log when it opens: wait until the DOWN is stored (slow on a loaded machine).
      await expect
        .poll(
          async () =>
            (
              (await api.get('/api/v1/events').query({ type: 'health', backend: 'flap' })).body as Array<{
                text: string;
              }>
            )
              .map((e) => e.text)
              .join('\n'),
          { timeout: 15_000 },
        )
        .toContain('flap/f1 UP → DOWN (L4CON)');

      await page.goto(`${url}/#/events`);
      const rows = page.locator('tr[data-event]');
      await expect
        .poll(() => rows.allTextContents(), { timeout: 5000 })
        .toContainEqual(expect.stringContaining('flap/f1 UP → DOWN (L4CON)'));
      expect(await rows.allTextContents()).toContainEqual(expect.stringContaining('gw/s2 READY → DRAIN'));
      await page.locator('select[name=type]').selectOption('admin-state');
      await expect
        .poll(() => rows.allTextContents())
        .toEqual([expect.stringContaining('gw/s2 READY → DRAIN')]);
      // The filter goes into the link, so a reload or a link passed on shows the same.
      expect(page.url()).toContain('#/events?type=admin-state');
      await page.locator('select[name=type]').selectOption('');
      await page.locator('input[name=backend]').fill('flap');
      await expect
        .poll(async () => (await rows.allTextContents()).every((t) => t.includes('flap/f1')))
        .toBe(true);
      // Filters in the link.
      await page.goto(`${url}/#/events?type=admin-state&server=s2`);
      await expect
        .poll(() => rows.allTextContents())
        .toEqual([expect.stringContaining('gw/s2 READY → DRAIN')]);
      expect(await page.locator('select[name=type]').inputValue()).toBe('admin-state');

      // Reloaded, the overview still shows the DOWN line (from the stored log) and counts it: 1× DOWN.
      await page.goto(`${url}/#/overview`);
      await page.reload();
      const recent = page.locator('ul.events');
      await expect.poll(() => recent.textContent(), { timeout: 5000 }).toContain('flap/f1 UP → DOWN (L4CON)');
      // Its time as the outage notice writes times (24-hour, whatever the locale), not "7:53:43 PM".
      expect(
        await recent.locator('li', { hasText: 'flap/f1 UP → DOWN' }).first().locator('time').textContent(),
      ).toMatch(/^\d\d:\d\d:\d\d$/);
      await expect
        .poll(() => page.locator('tr.server-row[data-server="f1"] [data-testid=down]').textContent())
        .toMatch(/^1× · \d/);
      expect(await serverRow('s1').locator('[data-testid=down]').textContent()).toMatch(/^0× · /);
      // The count leads to those DOWNs in the log: its health events.
      await page.locator('tr.server-row[data-server="f1"] [data-testid=down] a').click();
      await expect.poll(() => page.url()).toContain('#/events?type=health&backend=flap&server=f1');
      await expect
        .poll(() => rows.allTextContents(), { timeout: 5000 })
        .toEqual([expect.stringContaining('flap/f1 UP → DOWN (L4CON)')]);
      expect(await page.locator('select[name=type]').inputValue()).toBe('health');
    });
  });

  describe('point 11: an expired login keeps the draft', () => {
    it('signs in again in a dialog; the edited form keeps its content and its review goes on', async () => {
      await page.goto(`${url}/#/config`);
      await page.locator('tr[data-frontend=sms]').getByRole('button', { name: 'Edit' }).click();
      const maxconn = page.locator('input[name="maxconn"]');
      await maxconn.fill('1234');
      // The login ends behind the console's back (as when it expires).
      const cookies = await context.cookies(url);
      const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
      await tether.anonymous.post('/api/v1/auth/logout').set('Cookie', cookie).expect(204);
      expect((await tether.anonymous.get('/api/v1/auth/me').set('Cookie', cookie)).status).toBe(401);
      // Review at once (a programmatic click: the live feed may open the dialog first and make the page inert).
      await page.evaluate(
        `(() => [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Review changes').click())()`,
      );
      const relogin = page.locator('dialog.relogin');
      await relogin.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await relogin.textContent()).toContain('Your session ended');
      expect(await page.locator('main.login').count()).toBe(0);
      expect(await maxconn.inputValue()).toBe('1234');
      await relogin.getByLabel('Password').fill(TEST_ADMIN_PASSWORD);
      await relogin.getByRole('button', { name: 'Sign in' }).click();
      await relogin.waitFor({ state: 'hidden' });
      // The review that met the expired login went on.
      const review = page.locator('form.review');
      await review.waitFor({ timeout: 10_000 });
      await expect.poll(() => review.locator('table.changes').textContent()).toContain('1234');
      expect((await api.get('/api/v1/config')).body.frontends[0].maxconn).not.toBe(1234);
    });
  });

  describe('point 12: small things', () => {
    it('shows one banner at a time and none on another page', async () => {
      await serverRow('s1').getByRole('button', { name: 'Ready' }).click();
      await page.locator('.banner-same').waitFor();
      await serverRow('s2').getByRole('button', { name: 'Ready' }).click();
      await expect
        .poll(() => page.locator('.banner').allTextContents())
        .toEqual([expect.stringContaining('gw/s2')]);
      await page.goto(`${url}/#/config`);
      await page.locator('tr[data-frontend=sms]').waitFor();
      expect(await page.locator('.banner').count()).toBe(0);
    });

    it('filters the overview by address and port and says when nothing matches', async () => {
      const filter = page.locator('input[type=search]').first();
      await filter.fill(`127.0.0.1:${backends[1].port}`);
      await expect
        .poll(() =>
          page.locator('tr.server-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-server'))),
        )
        .toEqual(['s2']);
      await filter.fill(`:${frontendPort}`);
      await expect.poll(() => page.locator('tr.server-row').count()).toBe(2);
      await filter.fill('nothing-like-this');
      await page.locator('[data-testid=no-match]').waitFor();
      expect(await page.locator('[data-testid=no-match]').textContent()).toContain('No match');
      expect(await page.locator('section.proxy').count()).toBe(0);
    });

    it('folds the legend into a "?" button on a phone', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      const legend = page.locator('footer.legend');
      const toggle = legend.getByRole('button', { name: 'Show the legend' });
      await toggle.waitFor();
      expect((await legend.boundingBox())!.height).toBeLessThan(60);
      expect(await legend.locator('.legend-group').first().isVisible()).toBe(false);
      await toggle.click();
      expect(await legend.locator('.legend-group').first().isVisible()).toBe(true);
      await legend.getByRole('button', { name: 'Hide the legend' }).click();
      expect(await legend.locator('.legend-group').first().isVisible()).toBe(false);
    });

    it('keeps the Actions column inside the viewport at 1280 px', async () => {
      // The widest rows: long names, two binds, a draining server (progress), a backup.
      const long = 'ismg-gateway-primary-datacenter-a-01';
      await api
        .post('/api/v1/backends')
        .send({
          name: 'operator-ismg-gateways-long-name',
          balance: 'leastconn',
          check: { type: 'tcp', inter: 500 },
          servers: [
            { name: long, address: '127.0.0.1', port: backends[0].port, weight: 100 },
            { name: `${long}-backup`, address: '127.0.0.1', port: backends[1].port, backup: true },
          ],
        })
        .expect(201);
      await api
        .post('/api/v1/frontends')
        .send({
          name: 'cmpp-operator-frontend-long-name',
          binds: [
            { address: '127.0.0.1', port: await freePort() },
            { address: '127.0.0.1', port: await freePort() },
          ],
          backend: 'operator-ismg-gateways-long-name',
        })
        .expect(201);
      await api.put('/api/v1/backends/gw/servers/s2/state').send({ state: 'drain' }).expect(200);
      await page.setViewportSize({ width: 1280, height: 800 });
      await serverRow('s2').locator('[data-testid=drain-progress]').waitFor();
      await serverRow(long).waitFor();
      for (const cell of await page.locator('tr.server-row td.actions').all()) {
        const box = (await cell.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(1280);
        for (const button of await cell.getByRole('button').all()) {
          const b = (await button.boundingBox())!;
          expect(b.x + b.width, (await button.textContent()) ?? '').toBeLessThanOrEqual(1280);
        }
      }
      const clipped = await page.evaluate(
        `(() => Math.max(0, ...[...document.querySelectorAll('.table-wrap')].map((el) => el.scrollWidth - el.clientWidth)))()`,
      );
      expect(clipped).toBe(0);
    });
  });
});
