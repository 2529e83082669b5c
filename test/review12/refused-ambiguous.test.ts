// `ambiguous` counts the requests that may have reached a gateway and were left unanswered when their session ended
// (docs/cmpp-session-control.md): the figure an operator reads to know whether an SMS may be doubled or lost. A login
// Tether refuses itself (cap, rate) never reached a gateway: requests its client sent behind the CONNECT can't be
// ambiguous, yet they were counted so, per frontend and per account.
import { afterAll, beforeAll, expect, it } from 'vitest';
import net from 'node:net';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, connectFrame, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { closed, freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

let t: StartedApp;
let gateway: Gateway;
let port: number;
const REFUSED = '900099';

beforeAll(async () => {
  gateway = await cmppGateway();
  t = await startApp();
  port = await freePort();
  await t.request
    .post('/api/v1/backends')
    .send(
      backendBody('b', [serverBody('gw', gateway.port)], {
        cmpp: {
          accounts: [{ account: REFUSED, maxConnections: 0 }],
          loginRate: { perSource: { logins: 1, per: '1h' } },
        },
      }),
    )
    .expect(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('fe', port, 'b', { inspect: 'cmpp' }))
    .expect(201);
});
afterAll(async () => {
  await t?.close();
  await gateway?.close();
});

async function counters() {
  const stats = (await t.request.get('/api/v1/stats').expect(200)).body;
  const fe = stats.frontends.find((f: { name: string }) => f.name === 'fe');
  return {
    frontend: fe.cmpp as { ambiguous: number; refusedCap: number; refusedRate: number },
    accounts: stats.cmppAccounts as Array<{ account: string; ambiguous: number }>,
  };
}

/** A CONNECT with SUBMITs right behind it, as a pipelining client writes them; what Tether answers until it closes. */
async function pipelined(account: string, source: string): Promise<Buffer> {
  const sp = Sp.prototype.submit;
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: source });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    Buffer.concat([connectFrame(account), ...[2, 3, 4].map((seq) => sp.call(null, seq, account))]),
  );
  return closed(socket, 10_000);
}

it('SUBMITs behind a CONNECT refused at the cap are not ambiguous', async () => {
  const answer = await pipelined(REFUSED, '127.0.0.21');
  expect(answer.readUInt32BE(4)).toBe(CommandId.CONNECT_RESP);
  expect(answer.readUInt32BE(12), 'status').toBe(5);
  await waitFor(async () => (await counters()).frontend.refusedCap === 1, 5000);
  await waitFor(async () => (await t.request.get('/api/v1/sessions').expect(200)).body.length === 0, 5000);
  const { frontend, accounts } = await counters();
  expect(frontend.ambiguous).toBe(0);
  expect(accounts.find((a) => a.account === REFUSED)?.ambiguous ?? 0).toBe(0);
  expect(gateway.received.filter((f) => f.commandId === CommandId.SUBMIT)).toHaveLength(0);
});

it('SUBMITs behind a CONNECT refused for the login rate are not ambiguous', async () => {
  // The source's one login an hour goes through (and is left alone); the next is refused for the rate.
  const sp = await Sp.connect(port, '127.0.0.22');
  expect((await sp.login('900001')).bytes.readUInt32BE(12)).toBe(0);
  const answer = await pipelined('900002', '127.0.0.22');
  expect(answer.readUInt32BE(12), 'status').toBe(5);
  await waitFor(async () => (await counters()).frontend.refusedRate === 1, 5000);
  await waitFor(async () => (await t.request.get('/api/v1/sessions').expect(200)).body.length === 1, 5000);
  const { frontend, accounts } = await counters();
  expect(frontend.ambiguous).toBe(0);
  expect(accounts.find((a) => a.account === '900002')?.ambiguous ?? 0).toBe(0);
  sp.close();
});
