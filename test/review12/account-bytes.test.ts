// backend.cmpp.accounts names an account as 1 to 6 bytes of UTF-8 (RULES.cmppLimits.account), and a client's CONNECT
// carries those bytes in Source_Addr (NUL padded). An override of a non-ASCII account was accepted and then never
// applied: the override was looked up by the JavaScript string, the CONNECT's account read byte by byte (latin1).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { freePort } from '../helpers/net.js';
import { backendBody, expectError, frontendBody, serverBody } from '../control-plane/fixtures.js';

let t: StartedApp;
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  gateway = await cmppGateway();
  t = await startApp();
  port = await freePort();
  const res = await t.request.post('/api/v1/backends').send(
    backendBody('b', [serverBody('gw', gateway.port)], {
      cmpp: {
        maxConnectionsPerAccount: 5,
        accounts: [
          { account: 'é12', maxConnections: 0 },
          { account: '短信', maxConnections: 0 },
        ],
      },
    }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('fe', port, 'b', { inspect: 'cmpp' }))
    .expect(201);
});
afterAll(async () => {
  await t?.close();
  await gateway?.close();
});

const connects = () => gateway.received.filter((f) => f.commandId === CommandId.CONNECT).length;

for (const account of ['é12', '短信']) {
  it(`an override of "${account}" (maxConnections 0) refuses that account's login`, async () => {
    const before = connects();
    const sp = await Sp.connect(port);
    const resp = await sp.login(account);
    sp.close();
    expect(resp.commandId).toBe(CommandId.CONNECT_RESP);
    expect(resp.bytes.readUInt32BE(12), 'CONNECT_RESP status').toBe(5);
    expect(connects(), 'CONNECTs that reached the gateway').toBe(before);
  });
}

it('an ASCII account without override still gets the backend cap', async () => {
  const sp = await Sp.connect(port);
  const resp = await sp.login('900001');
  sp.close();
  expect(resp.bytes.readUInt32BE(12)).toBe(0);
});

it('an override whose account ends with a NUL byte is refused: Source_Addr is NUL padded, no login can name it so', async () => {
  const before = (await t.request.get('/api/v1/config').expect(200)).body;
  for (const account of ['\u0000', '9001\u0000', 'é\u0000\u0000']) {
    const res = await t.request
      .patch('/api/v1/backends/b')
      .send({ cmpp: { maxConnectionsPerAccount: 5, accounts: [{ account, maxConnections: 1 }] } });
    expectError(res, 400, 'cmpp.accounts[0].account');
    const doc = structuredClone(before);
    delete doc.revision;
    doc.backends[0].cmpp = { accounts: [{ account, maxConnections: 1 }] };
    const put = await t.request.put('/api/v1/config').send(doc);
    expectError(put, 400, 'backends[0].cmpp.accounts[0].account');
    const validate = await t.request.post('/api/v1/config/validate').send(doc);
    expect({ status: validate.status, errors: validate.body.errors }).toEqual({
      status: put.status,
      errors: put.body.errors,
    });
  }
  expect((await t.request.get('/api/v1/config').expect(200)).body.revision).toBe(before.revision);
  // A NUL inside the account is a byte like any other: accepted.
  await t.request
    .patch('/api/v1/backends/b')
    .send({ cmpp: { maxConnectionsPerAccount: 5, accounts: [{ account: 'a\u0000b', maxConnections: 1 }] } })
    .expect(200);
});
