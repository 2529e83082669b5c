// What the browser tests set up before they drive the console: the usual route in the real app, a page of
// Debian's Chromium, and a signed-in console.
import type { Browser, Page } from 'playwright-core';
import type { StartedApp } from './app.js';
import { TEST_ADMIN_PASSWORD } from './auth.js';
import { launchChromium, submitSignIn } from './chromium.js';

/** The window size the console is designed for (its Actions column must fit at 1280 px). */
export const DESKTOP = { width: 1280, height: 800 };

/**
 * Backend 'gw' (round robin, no health check) with one server per entry of `servers` (name -> port on
 * 127.0.0.1), and frontend 'sms' on 127.0.0.1:`port` sending to it.
 */
export async function postSmsRoute(
  api: StartedApp['request'],
  port: number,
  servers: Record<string, number>,
  frontendExtra: Record<string, unknown> = {},
): Promise<void> {
  await api
    .post('/api/v1/backends')
    .send({
      name: 'gw',
      balance: 'roundrobin',
      check: { type: 'none' },
      servers: Object.entries(servers).map(([name, serverPort]) => ({
        name,
        address: '127.0.0.1',
        port: serverPort,
      })),
    })
    .expect(201);
  await api
    .post('/api/v1/frontends')
    .send({ name: 'sms', bind: { address: '127.0.0.1', port }, backend: 'gw', ...frontendExtra })
    .expect(201);
}

/** Launches Chromium with one page of `viewport`; the caller closes the browser. */
export async function browserWithPage(viewport = DESKTOP): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ viewport })).newPage();
    return { browser, page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** Opens the console's `path` and signs in as admin when the API asks for credentials. */
export async function openConsole(page: Page, tether: StartedApp, path = '/'): Promise<void> {
  await page.goto(`${tether.url}${path}`);
  if ((await tether.anonymous.get('/api/v1/auth/me')).status === 401) {
    await submitSignIn(page, 'admin', TEST_ADMIN_PASSWORD);
  }
}
