// The overview's SMS panel (issue 11 point 3): real CMPP traffic through the real app, shown per gateway
// (SUBMIT/s, results by code, latency, logins refused by status) and per SP account. Debian's Chromium.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { chromiumMissing } from '../helpers/chromium.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { ensureConsoleBuilt } from '../helpers/console-build.js';
import { browserWithPage, openConsole, postSmsRoute } from '../helpers/console-setup.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';

const missing = chromiumMissing();

describe.skipIf(missing)('SMS panel on the overview', () => {
  let tether: StartedApp | undefined;
  let gateway: Gateway;
  let browser: Browser | undefined;
  let page: Page;
  let port: number;

  beforeAll(async () => {
    ensureConsoleBuilt();
    gateway = await cmppGateway({
      loginStatus: (account) => (account === '900009' ? 3 : 0),
      submitResult: (seq) => (seq % 4 === 0 ? 8 : 0),
    });
    port = await freePort();
    tether = await startApp();
    await postSmsRoute(tether.request, port, { gw1: gateway.port }, { inspect: 'cmpp' });
    ({ browser, page } = await browserWithPage({ width: 1400, height: 900 }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tether?.close();
    await gateway?.close();
  });

  it('shows SUBMITs, results by code, latency, refused logins and the accounts', async () => {
    const sp = await Sp.connect(port);
    try {
      expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
      sp.socket.write(Buffer.concat(Array.from({ length: 12 }, (_, i) => sp.submit(i + 1, '900001'))));
      await sp.next(12);
      const refused = await Sp.connect(port);
      await refused.login('900009');
      refused.close();

      await openConsole(page, tether!);
      const row = page.locator('section.sms tr[data-gateway="gw/gw1"]');
      await row.waitFor();
      const cell = (label: string) => row.locator(`td[data-label="${label}"]`);
      await expect.poll(() => cell('SUBMITs').textContent()).toBe('12');
      expect(await cell('ok').textContent()).toBe('9');
      expect(await cell('throttled').textContent()).toBe('3');
      expect(await cell('other').textContent()).toBe('0');
      expect(await cell('logins refused').textContent()).toBe('3×1');
      expect(await cell('latency').textContent()).toMatch(/^≤\S+ (ms|µs) \/ ≤\S+ (ms|µs)$/);

      const account = page.locator('section.sms tr[data-account="900001"]');
      await account.waitFor();
      expect(await account.locator('td[data-label="SUBMITs"]').textContent()).toBe('12');
      expect(await account.locator('td[data-label="Version"]').textContent()).toBe('3.0');
      const other = page.locator('section.sms tr[data-account="900009"]');
      expect(await other.locator('td[data-label="logins refused"]').textContent()).toBe('3×1');

      // SUBMIT/s: the difference between two stats events while the SP keeps submitting (bounded: 8 s).
      let seq = 100;
      const deadline = Date.now() + 8000;
      let rate = '';
      while (Date.now() < deadline) {
        sp.socket.write(sp.submit(seq++, '900001'));
        rate = (await cell('SUBMIT/s').textContent()) ?? '';
        if (/^[1-9]/.test(rate)) break;
        await sleep(100);
      }
      expect(rate).toMatch(/^[1-9]/);
      await waitFor(
        () => gateway.received.filter((f) => f.commandId === CommandId.SUBMIT).length === seq - 100 + 12,
      );
    } finally {
      sp.close();
    }
  });
});
