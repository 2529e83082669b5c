// The overview's backend "Down" cell is the backend's own DOWN count (HAProxy's backend chkdown, docs/events.md):
// 0× while one server of two is DOWN, 1× once the other follows; not the sum of its servers' counts.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole } from '../helpers/console-setup.js';
import { closedPort, closeServer, listeningServer, portOf } from '../helpers/health-targets.js';
import { freePort } from '../helpers/net.js';

const missing = chromiumMissing();
if (missing) console.log(`skipping the backend Down cell test: ${missing}`);

describe.skipIf(missing)('overview: a backend’s Down count in Chromium', () => {
  let tether: StartedApp;
  let browser: Browser;
  let page: Page;
  let up: Awaited<ReturnType<typeof listeningServer>>;

  beforeAll(async () => {
    ensureConsoleBuilt();
    tether = await startApp();
    up = await listeningServer();
    const refused = await closedPort();
    await tether.request
      .post('/api/v1/backends')
      .send({
        name: 'gw',
        balance: 'roundrobin',
        check: { type: 'tcp', inter: 100, fall: 1, rise: 1 },
        servers: [
          { name: 's1', address: '127.0.0.1', port: portOf(up) },
          { name: 's2', address: '127.0.0.1', port: refused },
        ],
      })
      .expect(201);
    await tether.request
      .post('/api/v1/frontends')
      .send({ name: 'sms', bind: { address: '127.0.0.1', port: await freePort() }, backend: 'gw' })
      .expect(201);
    ({ browser, page } = await browserWithPage());
    await openConsole(page, tether, '/#/overview');
  });

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    if (up) await closeServer(up);
  });

  const cell = (selector: string) => page.locator(`section.proxy[data-backend="gw"] ${selector}`);
  const backendDown = () => cell('tr.be-row [data-testid=backend-down]').textContent();
  const serverDown = (name: string) =>
    cell(`tr.server-row[data-server="${name}"] [data-testid=down]`).textContent();

  it('shows 0× for a backend that never went DOWN, whatever its servers did; 1× once it did', async () => {
    await expect.poll(() => serverDown('s2'), { timeout: 10_000 }).toMatch(/^1× · /);
    expect(await serverDown('s1')).toMatch(/^0× · /);
    expect(await backendDown()).toMatch(/^0× · /);

    await closeServer(up);
    await expect.poll(() => serverDown('s1'), { timeout: 10_000 }).toMatch(/^1× · /);
    await expect.poll(() => backendDown(), { timeout: 5000 }).toMatch(/^1× · /);
    expect(await serverDown('s2')).toMatch(/^1× · /);
  });
});
