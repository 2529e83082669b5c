// A check in flight when its checker is replaced or stopped (a new checkPort or new steps, the server or backend
// removed, maint) is abandoned at once, connection closed: before, it held its socket and timer until the check
// timeout (up to a day), so every such apply against a silent server left one more connection open.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { ABANDONED, type Probe } from '../../src/runtime/health/probe.js';
import { cmppProbe } from '../../src/runtime/health/cmpp-probe.js';
import { tcpCheckProbe } from '../../src/runtime/health/tcp-check-probe.js';
import { tcpProbe } from '../../src/runtime/health/tcp-probe.js';
import { blackhole, listen, loopBarrier, waitFor, type TestServer } from '../helpers/net.js';
import { backendBody, serverBody } from '../control-plane/fixtures.js';

let t: StartedApp;
/** Two check ports that accept and never answer: a tcp-check expect waits on them until its timeout. */
let silentA: TestServer;
let silentB: TestServer;

beforeAll(async () => {
  t = await startApp();
  silentA = await listen(drain);
  silentB = await listen(drain);
});
afterAll(async () => {
  await t?.close();
  await silentA?.close();
  await silentB?.close();
});

/** Reads and drops what a check sends (a CMPP login), so the peer's close is seen. */
const drain = (socket: Socket) => socket.resume();
const open = (s: TestServer) =>
  s.accepted.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
const openChecks = () => open(silentA) + open(silentB);

it('moving checkPort back and forth leaves one check connection open, not one per apply', async () => {
  const check = { type: 'tcp', timeout: '1d', inter: '1d', steps: [{ expect: { string: 'never sent' } }] };
  await t.request
    .post('/api/v1/backends')
    .send(
      backendBody('silent', [serverBody('s', silentA.port, { check: true, checkPort: silentA.port })], {
        check,
      }),
    )
    .expect(201);
  await waitFor(() => openChecks() === 1, 5000, 'the first check connection');
  const moves = 6;
  for (let i = 1; i <= moves; i++) {
    const port = i % 2 === 1 ? silentB.port : silentA.port;
    await t.request.patch('/api/v1/backends/silent/servers/s').send({ checkPort: port }).expect(200);
    await waitFor(() => silentA.accepted.length + silentB.accepted.length === i + 1, 5000, `check ${i + 1}`);
  }
  // Each apply started a new check at once; the ones it replaced are closed, bounded wait.
  await waitFor(() => openChecks() === 1, 5000, `one open check connection (open: ${openChecks()})`);
  expect(silentA.accepted.length + silentB.accepted.length).toBe(moves + 1);
});

it('maint and removing the backend close the check in flight', async () => {
  const silent = await listen(drain);
  try {
    const check = { type: 'tcp', timeout: '1d', inter: '1d', steps: [{ expect: { string: 'never sent' } }] };
    await t.request
      .post('/api/v1/backends')
      .send(backendBody('quiet', [serverBody('s', silent.port, { check: true })], { check }))
      .expect(201);
    await waitFor(() => open(silent) === 1, 5000, 'the first check connection');
    await t.request.put('/api/v1/backends/quiet/servers/s/state').send({ state: 'maint' }).expect(200);
    await waitFor(() => open(silent) === 0, 5000, 'maint closing the check');
    await t.request.put('/api/v1/backends/quiet/servers/s/state').send({ state: 'ready' }).expect(200);
    await waitFor(() => open(silent) === 1, 5000, 'a check after ready');
    await t.request.delete('/api/v1/backends/quiet').expect(200);
    await waitFor(() => open(silent) === 0, 5000, 'removing the backend closing the check');
    expect(silent.accepted).toHaveLength(2);
  } finally {
    await silent.close();
  }
});

it('every probe settles at once when abandoned, its connection closed (tcp to a black hole, CMPP to a silent gateway)', async () => {
  const hole = await blackhole();
  const silent = await listen(drain);
  try {
    const probes: Array<[string, Probe, number]> = [
      ['tcp', tcpProbe, hole.port],
      ['cmpp', cmppProbe({ sourceAddr: '900001', secret: 's', version: '3.0' }), silent.port],
      ['tcp-check', tcpCheckProbe([{ expect: { string: 'never' } }]), silent.port],
    ];
    for (const [name, probe, port] of probes) {
      const abandon = new AbortController();
      const pending = probe({ address: '127.0.0.1', port }, 86_400_000, abandon.signal);
      if (port === silent.port)
        await waitFor(() => open(silent) === 1, 5000, `${name}: the probe's connection`);
      abandon.abort();
      const result = await pending;
      expect(result, name).toMatchObject({ ok: false, status: 'SOCKERR', description: ABANDONED });
      await waitFor(() => open(silent) === 0, 5000, `${name}: its connection closed`);
    }
    // Already aborted: nothing is opened at all.
    const before = silent.accepted.length;
    const aborted = AbortSignal.abort();
    for (const [name, probe] of probes)
      expect(
        await probe({ address: '127.0.0.1', port: silent.port }, 86_400_000, aborted),
        name,
      ).toMatchObject({
        description: ABANDONED,
      });
    await loopBarrier();
    expect(silent.accepted).toHaveLength(before);
  } finally {
    hole.close();
    await silent.close();
  }
});
