// Issue 12's lossless close attacked by its peers, through the real app (startApp, REST) and real sockets: a client
// that answers Tether's TERMINATE with a storm of its own TERMINATEs while it reads nothing, a gateway that does the
// same. Each TERMINATE asked for one answer, written into the other peer's socket whatever its backpressure: memory
// on Tether grew with what the peer sent, until the close's hard limit (up to 5 minutes).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeTerminate } from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, type Frame, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { closed, freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

let t: StartedApp;
let gateway: Gateway;
let port: number;
const ACCOUNT = '900777';
const STORM = 20_000;

beforeAll(async () => {
  gateway = await cmppGateway();
  t = await startApp();
  port = await freePort();
  await t.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('gw', gateway.port)], { cmpp: { closeTimeout: 20_000 } }))
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

async function clientBytesIn(): Promise<number> {
  const res = await t.request.get('/api/v1/sessions').query({ frontend: 'fe' }).expect(200);
  return (res.body as Array<{ bytesIn: number }>).reduce((sum, s) => sum + s.bytesIn, 0);
}

it('a client answering the TERMINATE with a storm of TERMINATEs gets one TERMINATE_RESP, not one per frame', async () => {
  const sp = await Sp.connect(port);
  const frames: Frame[] = [];
  expect((await sp.login(ACCOUNT)).commandId).toBe(CommandId.CONNECT_RESP);
  // A SUBMIT whose answer the gateway holds back: the close waits in its first phase while the storm arrives.
  gateway.hold = true;
  sp.socket.write(sp.submit(1, ACCOUNT));
  await waitFor(() => gateway.received.some((f) => f.commandId === CommandId.SUBMIT), 5000);
  const shut = await t.request
    .post('/api/v1/backends/b/servers/gw/shutdown-sessions')
    .send({ graceful: true })
    .expect(200);
  expect(shut.body.closed).toBe(1);
  const [terminate] = await sp.next(1);
  expect(terminate.commandId).toBe(CommandId.TERMINATE);
  const before = await clientBytesIn();
  sp.socket.write(Buffer.concat(Array.from({ length: STORM }, (_, i) => encodeTerminate(1000 + i))));
  // Every TERMINATE has reached Tether (its bytes counted on the session) before the gateway answers.
  await waitFor(async () => (await clientBytesIn()) >= before + STORM * 12, 10_000);
  gateway.release();
  gateway.hold = false;
  await closed(sp.socket, 10_000);
  for (;;) {
    try {
      frames.push(...(await sp.next(1, 200)));
    } catch {
      break;
    }
  }
  const resps = frames.filter((f) => f.commandId === CommandId.TERMINATE_RESP);
  expect(frames.filter((f) => f.commandId === CommandId.SUBMIT_RESP)).toHaveLength(1);
  expect(resps.length, `${resps.length} TERMINATE_RESPs for one session`).toBe(1);
}, 30_000);

async function sessionsLeft(): Promise<number> {
  const res = await t.request.get('/api/v1/sessions').query({ frontend: 'fe' }).expect(200);
  return (res.body as unknown[]).length;
}

it('a client sending garbage during the close is cut at once; its SUBMIT in flight counted ambiguous', async () => {
  const ambiguousBefore = (await t.request.get('/api/v1/stats').expect(200)).body.frontends[0].cmpp.ambiguous;
  const sp = await Sp.connect(port);
  expect((await sp.login(ACCOUNT)).commandId).toBe(CommandId.CONNECT_RESP);
  gateway.hold = true;
  sp.socket.write(sp.submit(7, ACCOUNT));
  await waitFor(
    () => gateway.received.some((f) => f.commandId === CommandId.SUBMIT && f.sequenceId === 7),
    5000,
  );
  await t.request.post('/api/v1/backends/b/servers/gw/shutdown-sessions?graceful=true').expect(200);
  expect((await sp.next(1))[0].commandId).toBe(CommandId.TERMINATE);
  const startedAt = Date.now();
  sp.socket.write(Buffer.alloc(64, 0xff)); // a length no CMPP frame has
  await closed(sp.socket, 5000);
  await waitFor(async () => (await sessionsLeft()) === 0, 5000);
  // Well inside the close's hard limit (20 s here): cut at once, not waited out.
  expect(Date.now() - startedAt).toBeLessThan(5000);
  const stats = (await t.request.get('/api/v1/stats').expect(200)).body;
  expect(stats.frontends[0].cmpp.ambiguous - ambiguousBefore).toBe(1);
  gateway.release();
  gateway.hold = false;
}, 30_000);

it('a client that reads nothing and answers nothing, with a gateway that never answers: gone by the hard limit', async () => {
  await t.request
    .patch('/api/v1/backends/b')
    .send({ cmpp: { closeTimeout: 300 } })
    .expect(200);
  const sp = await Sp.connect(port);
  expect((await sp.login(ACCOUNT)).commandId).toBe(CommandId.CONNECT_RESP);
  gateway.hold = true;
  sp.socket.write(Buffer.concat([1, 2, 3].map((seq) => sp.submit(100 + seq, ACCOUNT))));
  await waitFor(
    () => gateway.received.filter((f) => f.sequenceId > 100 && f.sequenceId < 104).length === 3,
    5000,
  );
  sp.socket.pause(); // reads nothing from now on, and never answers the TERMINATE
  const startedAt = Date.now();
  await t.request
    .post('/api/v1/backends/b/servers/gw/shutdown-sessions')
    .send({ graceful: true })
    .expect(200);
  // closeTimeout + the server's TERMINATE_RESP wait (2 s) + the linger (2 s), with a margin for a loaded machine.
  await waitFor(async () => (await sessionsLeft()) === 0, 10_000);
  expect(Date.now() - startedAt).toBeLessThan(10_000);
  gateway.release();
  gateway.hold = false;
  sp.close();
}, 30_000);
