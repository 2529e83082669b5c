// The session logs' syslog target (`defaults.log`) in the console: shown in the Defaults panel, refused beside
// its field when it is no IP, set through the review, and then used: a session through the proxy arrives at this
// test's UDP socket as an RFC 3164 line of the chosen facility. Debian's Chromium against the real app.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { udpSink, type UdpSink } from '../helpers/udp-sink.js';
import {
  closed,
  connect,
  echo,
  freePort,
  listen,
  readBytes,
  waitFor,
  type TestServer,
} from '../helpers/net.js';

const missing = chromiumMissing();

describe.skipIf(missing)('the syslog target in the console', () => {
  let tether: StartedApp;
  let upstream: TestServer;
  let browser: Browser | undefined;
  let page: Page;
  let port: number;
  let sink: UdpSink;

  beforeAll(async () => {
    ensureConsoleBuilt();
    sink = await udpSink();
    upstream = await listen(echo);
    port = await freePort();
    tether = await startApp({ env: { TETHER_SOCKET: 'off' } });
    await postSmsRoute(tether.request, port, { s1: upstream.port });
    ({ browser, page } = await browserWithPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await upstream?.close();
    sink?.socket.close();
  });

  it('shows none, refuses a host name beside the field, sets an IP target through the review, and it is used', async () => {
    await openConsole(page, tether, '/#/config');
    const target = page.getByTestId('syslog-target');
    await expect.poll(() => target.textContent(), { timeout: 10_000 }).toBe('none in the config');

    await page.getByRole('button', { name: 'Edit defaults' }).click();
    await page.getByLabel('Syslog address').fill('syslog.example.net');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const error = page.locator('.field:has(input[name="log.address"]) [data-testid=field-error]');
    await expect
      .poll(() => error.textContent(), { timeout: 10_000 })
      .toMatch(/must be an IP address \(not a host name/);

    await page.getByLabel('Syslog address').fill('127.0.0.1');
    await page.getByLabel('Syslog port').fill(String(sink.port));
    await page.getByLabel('Syslog facility').selectOption('local3');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const review = page.locator('form.review');
    await review.waitFor({ timeout: 10_000 });
    await expect.poll(() => review.locator('table.changes').textContent()).toContain('defaults.log');
    await review.getByRole('button', { name: 'Apply change' }).click();
    await expect.poll(() => target.textContent(), { timeout: 10_000 }).toBe(`127.0.0.1:${sink.port} local3`);
    expect((await tether.request.get('/api/v1/config').expect(200)).body.defaults.log).toEqual({
      address: '127.0.0.1',
      port: sink.port,
      facility: 'local3',
    });

    const client = await connect(port);
    const clientPort = client.localPort;
    client.write('ping');
    await readBytes(client, 4);
    client.end();
    await closed(client);
    await waitFor(() => sink.lines.length > 0, 5000, 'the syslog datagram');
    // local3 (19) × 8 + info (6) = 158.
    expect(sink.lines[0]).toMatch(
      new RegExp(`^<158>.* tether\\[\\d+\\]: 127\\.0\\.0\\.1:${clientPort} .* sms gw/s1 `),
    );
  }, 60_000);
});
