// Console safety (issue 13, points 3, 5-10) in Debian's Chromium against the real app: real HTTP, real
// SQLite, real loopback backends and clients. Each test starts from the same config (beforeEach).
import { mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { loginToken, TEST_ADMIN_PASSWORD, withBearer, type Client } from '../helpers/auth.js';
import { chromiumMissing, launchChromium, submitSignIn } from '../helpers/chromium.js';
import { ensureConsoleBuilt, PROJECT_ROOT } from '../helpers/console-build.js';
import { connect, echo, freePort, listen, type TestServer } from '../helpers/net.js';

const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');
const missing = chromiumMissing();
if (missing) console.log(`skipping console safety browser tests: ${missing}`);

describe.skipIf(missing)('console safety in Chromium', () => {
  let tether: StartedApp;
  let api: StartedApp['request'];
  let admin2: Client;
  let upstreams: TestServer[] = [];
  const clients: Socket[] = [];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let smsPort: number;
  let initialConfig: Record<string, unknown>;

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    tether = await startApp();
    api = tether.request;
    upstreams = [await listen(echo), await listen(echo), await listen(echo)];
    smsPort = await freePort();
    const backend = await api.post('/api/v1/backends').send({
      name: 'gw',
      balance: 'source',
      check: { type: 'tcp', inter: 1000, fall: 2, rise: 1 },
      servers: upstreams.map((u, i) => ({
        name: `s${i + 1}`,
        address: '127.0.0.1',
        port: u.port,
        weight: 1,
      })),
    });
    expect(backend.status, JSON.stringify(backend.body)).toBe(201);
    const frontend = await api
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port: smsPort }, backend: 'gw' });
    expect(frontend.status, JSON.stringify(frontend.body)).toBe(201);
    const { defaults, frontends, backends } = (await api.get('/api/v1/config')).body;
    initialConfig = { defaults, frontends, backends };
    // A second admin, the "other operator" of the conflict test.
    const created = await api
      .post('/api/v1/users')
      .send({ username: 'admin2', password: 'second-admin-password-1', role: 'admin' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    admin2 = withBearer(tether.url, await loginToken(tether.url, 'admin2', 'second-admin-password-1'));

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
    await page.goto(`${tether.url}/`);
    await page.locator('main.login form').waitFor();
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
    await page.locator('section.proxy').first().waitFor();
  });

  beforeEach(async () => {
    const put = await api.put('/api/v1/config').send(initialConfig);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    for (const c of clients.splice(0)) c.destroy();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${tether.url}/#/overview`);
    await page.reload();
    await page.locator('section.proxy').first().waitFor();
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await context?.close();
    await browser?.close();
    await tether?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `console-safety-${name}.png`), fullPage: true });
  const head = async () => (await api.get('/api/v1/config')).body.revision as number;
  const dialog = () => page.locator('dialog.confirm');

  /** `n` clients of sms from distinct loopback addresses, each answered (so counted) before the next. */
  async function connectClients(port: number, n: number) {
    for (let i = 0; i < n; i++) {
      const socket = await connect(port, { localAddress: `127.0.0.${i + 2}` });
      clients.push(socket);
      socket.write('hi');
      await new Promise((resolve) => socket.once('data', resolve));
    }
  }

  async function openConfig() {
    await page.goto(`${tether.url}/#/config`);
    await page.locator('[data-backend=gw]').waitFor();
  }

  async function editBackend() {
    await openConfig();
    await page.locator('[data-backend=gw]').getByRole('button', { name: 'Edit' }).click();
    await page.locator('#be-form-title').waitFor();
  }

  it('reviews a rollback like any change: the listener it closes with its live session, before anything changes', async () => {
    const before = await head();
    const extraPort = await freePort();
    const added = await api
      .post('/api/v1/frontends')
      .send({ name: 'extra', bind: { address: '127.0.0.1', port: extraPort }, backend: 'gw' });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    await connectClients(extraPort, 1);
    const after = await head();

    await page.goto(`${tether.url}/#/history`);
    await page
      .locator(`tr[data-revision="${before}"]`)
      .getByRole('button', { name: `Roll back to #${before}` })
      .click();
    const review = page.locator('form.review');
    await review.waitFor({ timeout: 5000 });
    const impact = review.locator('[data-testid=impact]');
    await expect
      .poll(() => impact.textContent())
      .toMatch(new RegExp(`Closes listener extra on 127\\.0\\.0\\.1:${extraPort}.*1 current session kept`));
    expect(await review.locator('table.changes').textContent()).toContain('frontends[extra]');
    await shot('rollback-review');
    // Nothing changed yet: the same head, the listener still takes connections.
    expect(await head()).toBe(after);
    await connectClients(extraPort, 1);

    // The audit page's "Roll back to before this change" leads to the same review.
    await page.goto(`${tether.url}/#/audit`);
    const entry = page.locator('tr[data-audit]', { hasText: 'frontend.create' }).first();
    await entry.waitFor({ timeout: 5000 });
    await entry.getByRole('button', { name: 'diff' }).click();
    await page.getByRole('button', { name: /Roll back to before this change/ }).click();
    await dialog()
      .getByRole('button', { name: `Review the rollback to revision ${before}` })
      .click();
    await review.waitFor({ timeout: 5000 });
    await expect.poll(() => impact.textContent()).toMatch(/Closes listener extra .*2 current sessions kept/);
    expect(await head()).toBe(after);

    await review.getByRole('button', { name: `Roll back to revision ${before}` }).click();
    await expect
      .poll(() => page.locator('.banner-done').first().textContent(), { timeout: 5000 })
      .toContain(`rolled back to revision ${before}`);
    const config = (await api.get('/api/v1/config')).body;
    expect(config.revision).toBe(after + 1);
    expect(config.frontends.map((f: { name: string }) => f.name)).toEqual(['sms']);
  });

  it("reloads a form after a conflict with the operator's edits re-applied, marking what would undo the other change", async () => {
    await editBackend();
    // Meanwhile another admin changes two weights.
    const other = await admin2.patch('/api/v1/backends/gw').send({
      servers: (initialConfig.backends as Array<{ servers: Array<{ name: string }> }>)[0].servers.map(
        (s) => ({ ...s, weight: s.name === 's1' ? 4 : s.name === 's2' ? 2 : 1 }),
      ),
    });
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    const theirs = other.body.revision ?? (await head());
    // This operator edits s2's weight (the same field) and the interval (another one).
    await page.locator('input[name="servers[1].weight"]').fill('3');
    await page.locator('input[name="check.inter"]').fill('3s');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').getByRole('button', { name: 'Apply change' }).click();

    const warning = page.locator('[data-testid=form-warning]');
    await warning.waitFor({ timeout: 5000 });
    expect(await warning.textContent()).toContain(`Revision ${theirs} was applied by someone else`);
    expect(await page.locator('main').textContent()).not.toMatch(/If-Match|current revision is/);
    // Their s1 weight is kept, the own edits are there, and the one that undoes theirs is marked.
    expect(await page.locator('input[name="servers[0].weight"]').inputValue()).toBe('4');
    expect(await page.locator('input[name="servers[1].weight"]').inputValue()).toBe('3');
    expect(await page.locator('input[name="check.inter"]').inputValue()).toBe('3s');
    // Marked on s2's row, and listed in the notice with its path.
    const note = page.locator('.server-editor[data-server-index="1"] [data-testid=field-note]');
    expect(await note.textContent()).toBe(`undoes revision ${theirs} by admin2: weight 2 → 3`);
    expect(await page.locator('[data-testid=field-note]').count()).toBe(1);
    expect(
      await page
        .locator('.field.marked input')
        .evaluateAll((inputs) => inputs.map((i) => i.getAttribute('name'))),
    ).toEqual(['servers[1].weight']);
    expect(await warning.locator('li').allTextContents()).toEqual([
      `servers[s2].weight: undoes revision ${theirs} by admin2: weight 2 → 3`,
    ]);
    await shot('conflict-reloaded');
    expect((await api.get('/api/v1/backends/gw')).body.check.inter).toBe(1000);

    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(() => page.locator('.banner-done').first().textContent(), { timeout: 5000 })
      .toContain('backend gw changed');
    const gw = (await api.get('/api/v1/backends/gw')).body;
    expect(gw.servers.map((s: { weight: number }) => s.weight)).toEqual([4, 3, 1]);
    expect(gw.check.inter).toBe(3000);
  });

  it('two operators in two browsers: an inline weight edit by one is marked in the open form of the other', async () => {
    // gw's s2 at weight 3 when this operator opens the form.
    const servers = (initialConfig.backends as Array<{ servers: Array<{ name: string }> }>)[0].servers;
    const set = await api
      .patch('/api/v1/backends/gw')
      .send({ servers: servers.map((s) => ({ ...s, weight: s.name === 's2' ? 3 : 1 })) });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    await editBackend();
    expect(await page.locator('input[name="servers[1].weight"]').inputValue()).toBe('3');

    // admin2 signs in on a phone and sets s2 to 2 from the overview.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const other = await phone.newPage();
      await other.goto(`${tether.url}/`);
      await submitSignIn(other, 'admin2', 'second-admin-password-1');
      const row = other.locator('tr.server-row[data-server=s2]');
      await row.getByRole('button', { name: /Edit weight of s2/ }).click();
      await row.getByLabel('weight').fill('2');
      await row.getByLabel('weight').press('Enter');
      await other.locator('dialog.confirm').getByRole('button', { name: 'Set weight 2' }).click();
      await expect
        .poll(async () => (await api.get('/api/v1/backends/gw/servers/s2')).body.weight, { timeout: 5000 })
        .toBe(2);
    } finally {
      await phone.close();
    }
    const theirs = await head();

    // This operator, unaware, sets s2 to 1 and applies.
    await page.locator('input[name="servers[1].weight"]').fill('1');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').getByRole('button', { name: 'Apply change' }).click();
    const note = page.locator('.server-editor[data-server-index="1"] [data-testid=field-note]');
    await note.waitFor({ timeout: 5000 });
    expect(await note.textContent()).toBe(`undoes revision ${theirs} by admin2: weight 2 → 1`);
    expect(await page.locator('[data-testid=form-warning]').textContent()).toContain(
      `Revision ${theirs} was applied by someone else`,
    );
    expect((await api.get('/api/v1/backends/gw/servers/s2')).body.weight).toBe(2);
    // Applied only when reviewed again, knowingly.
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.locator('form.review').getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(async () => (await api.get('/api/v1/backends/gw/servers/s2')).body.weight, { timeout: 5000 })
      .toBe(1);
  });

  it('shows how many clients move before an inline weight edit, like the full form', async () => {
    await connectClients(smsPort, 8);
    const row = page.locator('tr.server-row[data-server=s1]');
    await row.getByRole('button', { name: /Edit weight of s1/ }).click();
    const input = row.getByLabel('weight');
    await input.fill('3');
    await input.press('Enter');
    await dialog().waitFor({ state: 'visible' });
    const impact = dialog().locator('[data-testid=impact]');
    await expect
      .poll(() => impact.textContent(), { timeout: 5000 })
      .toMatch(/Backend gw: .*% of current clients \(\d+ of 8\) would reach a different server/);
    await shot('weight-estimate');
    await dialog().getByRole('button', { name: 'Set weight 3' }).click();
    await expect
      .poll(async () => (await api.get('/api/v1/backends/gw/servers/s1')).body.weight, { timeout: 5000 })
      .toBe(3);
  });

  it('says which frontend uses a backend instead of offering its removal', async () => {
    await openConfig();
    await page.locator('[data-backend=gw]').getByRole('button', { name: 'Remove' }).click();
    const notice = page.locator('[data-testid=in-use]');
    await notice.waitFor({ timeout: 5000 });
    expect(await notice.textContent()).toContain('used by frontend sms');
    await shot('backend-in-use');
    expect(await dialog().isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: /Review removal/ }).count()).toBe(0);
    await notice.getByRole('link', { name: 'sms' }).click();
    await page.locator('#fe-form-title').waitFor();
    expect(await page.locator('#fe-form-title').textContent()).toBe('Edit frontend sms');
  });

  it('takes HAProxy durations in the forms and shows the API message for a bad one', async () => {
    await editBackend();
    // Shown as HAProxy writes them.
    expect(await page.locator('input[name="check.inter"]').inputValue()).toBe('1s');
    await page.locator('input[name="check.inter"]').fill('fast');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const error = page.locator('.field:has(input[name="check.inter"]) [data-testid=field-error]');
    await expect
      .poll(() => error.textContent(), { timeout: 5000 })
      .toBe('must be a duration like 5s, 500ms, 1m or milliseconds, from 10ms to 1d, got "fast"');
    await page.locator('input[name="check.inter"]').fill('2s');
    await page.locator('input[name="check.timeout"]').fill('1m');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const review = page.locator('form.review');
    await review.waitFor({ timeout: 5000 });
    expect(await review.locator('table.changes').textContent()).toContain('backends[gw].check.inter');
    await review.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(async () => (await api.get('/api/v1/backends/gw')).body.check, { timeout: 5000 })
      .toMatchObject({ inter: 2000, timeout: 60_000 });
  });

  it('shows the defaults that apply and edits them through a review', async () => {
    await openConfig();
    const panel = page.locator('[data-testid=defaults]');
    expect(await panel.textContent()).toMatch(/Global max connections 50000 · timeout connect 5s/);
    await page.locator('tr[data-frontend=sms]').getByRole('button', { name: 'Edit' }).click();
    expect(await page.locator('.field:has(input[name="maxconn"]) .hint').textContent()).toContain(
      'defaults.maxconn 50000',
    );
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-backend=gw]').getByRole('button', { name: 'Edit' }).click();
    expect(await page.locator('.field:has(input[name="check.timeout"]) .hint').textContent()).toBe(
      'empty: 5s from defaults.timeouts.check',
    );
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Edit defaults' }).click();
    await page.getByLabel('Connect timeout').fill('7s');
    await page.getByLabel('Global max connections').fill('40000');
    await shot('defaults-form');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const review = page.locator('form.review');
    await review.waitFor({ timeout: 5000 });
    const changes = await review.locator('table.changes').textContent();
    expect(changes).toContain('defaults.timeouts.connect');
    expect(changes).toContain('defaults.maxconn');
    // Durations as HAProxy writes them (the milliseconds in the title), other numbers as they are.
    const connect = review.locator('table.changes tr', { hasText: 'defaults.timeouts.connect' });
    expect(await connect.locator('td.before').textContent()).toBe('5s');
    expect(await connect.locator('td.after').textContent()).toBe('7s');
    expect(await connect.locator('td.after code').getAttribute('title')).toBe('7000 ms');
    const maxconn = review.locator('table.changes tr', { hasText: 'defaults.maxconn' });
    expect(await maxconn.locator('td.after').textContent()).toBe('40000');
    expect((await api.get('/api/v1/config')).body.defaults.timeouts.connect).toBe(5000);
    await review.getByRole('button', { name: 'Apply change' }).click();
    await expect
      .poll(async () => (await api.get('/api/v1/config')).body.defaults, { timeout: 5000 })
      .toMatchObject({ maxconn: 40000, timeouts: { connect: 7000 } });
    await expect.poll(() => panel.textContent()).toContain('timeout connect 7s');
  });

  it('puts each server on one row on a wide screen', async () => {
    await editBackend();
    const rows = page.locator('.server-editor');
    expect(await rows.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const name = (await rows.nth(i).locator('input[name$=".name"]').boundingBox())!;
      const backup = (await rows.nth(i).getByLabel('backup').boundingBox())!;
      // Name, address, port, weight and the check boxes side by side: one line, not a card.
      expect(Math.abs(name.y + name.height / 2 - (backup.y + backup.height / 2))).toBeLessThan(20);
      expect((await rows.nth(i).boundingBox())!.height).toBeLessThan(i === 0 ? 90 : 60);
      // Its Remove button on one line too ("Remove smsc-gw-2", not "Remove" over "smsc-gw-2"), inside the row.
      await rows
        .nth(i)
        .locator('input[name$=".name"]')
        .fill(`smsc-gw-${i + 1}`);
      const remove = rows.nth(i).getByRole('button', { name: `Remove smsc-gw-${i + 1}` });
      const button = (await remove.boundingBox())!;
      // One line of text is a 30 px button here, two lines 50 px.
      expect(button.height).toBeLessThan(40);
      const row = (await rows.nth(i).boundingBox())!;
      expect(button.x + button.width).toBeLessThanOrEqual(row.x + row.width + 1);
    }
    await shot('server-rows');
    // The labels are still there for screen readers.
    expect(await page.getByLabel('Server name').count()).toBe(3);
  });

  it('brings the first invalid field into view below the header, focuses it, and clears its error once fixed', async () => {
    await page.setViewportSize({ width: 1280, height: 500 });
    await editBackend();
    await page.locator('input[name="name"]').fill('bad name!');
    await page.locator('input[name="servers[2].port"]').fill('70000');
    // Review from the bottom of the form: the name field is out of view.
    const submit = page.getByRole('button', { name: 'Review changes' });
    await submit.scrollIntoViewIfNeeded();
    expect((await page.locator('input[name="name"]').boundingBox())!.y).toBeLessThan(0);
    await submit.click();
    const nameError = page.locator('.field:has(input[name="name"]) [data-testid=field-error]');
    await nameError.waitFor({ timeout: 5000 });
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("name")')).toBe('name');
    const header = (await page.locator('.top-bar').boundingBox())!;
    const field = (await page.locator('input[name="name"]').boundingBox())!;
    expect(field.y).toBeGreaterThanOrEqual(header.y + header.height);
    expect(field.y + field.height).toBeLessThanOrEqual(500);
    await page.screenshot({ path: join(ARTIFACTS, 'console-safety-first-invalid.png') });
    // Fixing the name clears its message; the port's stays until it is fixed too.
    await page.locator('input[name="name"]').fill('gw');
    await nameError.waitFor({ state: 'detached' });
    expect(await page.locator('input[name="name"]').getAttribute('aria-invalid')).toBe('false');
    // A server's messages sit under its row (a compact row has no room beside each input).
    const portError = page.locator('.server-editor[data-server-index="2"] [data-testid=field-error]');
    expect(await portError.textContent()).toBe('port: must be an integer from 1 to 65535, got 70000');
    expect(await page.locator('input[name="servers[2].port"]').getAttribute('aria-invalid')).toBe('true');
    await page.locator('input[name="servers[2].port"]').fill('7000');
    await portError.waitFor({ state: 'detached' });
  });
});
