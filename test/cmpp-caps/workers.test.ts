// Per-account caps across worker processes (issue 12 point 3, "across workers the cap holds for the appliance"):
// the compiled appliance with TETHER_WORKERS=2, a cap of 1, two logins of one account accepted by different
// workers: the second is refused by Tether (status 5) and never reaches the gateway. A worker killed with its
// session gives the account's slot back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeFrame } from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { compileApp, type CompiledApp } from '../helpers/compiled-app.js';
import { closed, waitFor } from '../helpers/net.js';
import { applianceWithWorkers, type RunningAppliance } from '../workers/appliance.js';

let compiled: CompiledApp;
let gateway: Gateway;
let running: RunningAppliance;

beforeAll(async () => {
  compiled = await compileApp();
  gateway = await cmppGateway();
  running = await applianceWithWorkers(compiled.main, gateway, 2, { inspect: 'cmpp' });
  const capped = await running.api
    .patch('/api/v1/backends/b')
    .send({ cmpp: { maxConnectionsPerAccount: 1 } });
  expect(capped.status, JSON.stringify(capped.body)).toBe(200);
}, 120_000);

afterAll(async () => {
  running?.stop();
  await gateway?.close();
  compiled?.remove();
});

interface Listed {
  id: string;
  clientPort: number;
}

/** Which worker holds each connection: the `w<N>:` prefix of its session id. */
async function workerOf(sps: Sp[]): Promise<Map<Sp, string>> {
  const byPort = new Map<number, string>();
  await waitFor(async () => {
    const sessions: Listed[] = (await running.api.get('/api/v1/sessions').expect(200)).body;
    for (const s of sessions) byPort.set(s.clientPort, s.id.split(':')[0]);
    return sps.every((sp) => byPort.has(sp.socket.localPort!));
  });
  return new Map(sps.map((sp) => [sp, byPort.get(sp.socket.localPort!)!]));
}

const connects = () => gateway.received.filter((f) => f.commandId === CommandId.CONNECT).length;

it('two logins of one account on different workers with a cap of 1: the second is refused, a dead worker frees its slot', async () => {
  // Connections are spread by the kernel: open some until two workers each hold one (bounded: 16).
  const sps: Sp[] = [];
  let pair: [Sp, Sp] | undefined;
  try {
    for (let i = 0; i < 16 && pair === undefined; i++) {
      sps.push(await Sp.connect(running.port, `127.0.0.${10 + i}`));
      const owners = await workerOf(sps);
      const first = sps[0];
      const other = sps.find((sp) => owners.get(sp) !== owners.get(first));
      if (other !== undefined) pair = [first, other];
    }
    expect(pair, 'two connections on different workers').toBeDefined();
    const [a, b] = pair!;
    for (const sp of sps) if (sp !== a && sp !== b) sp.close();

    expect(decodeFrame((await a.login('900001')).bytes)).toMatchObject({
      command: 'CONNECT_RESP',
      status: 0,
    });
    const refused = await b.login('900001');
    expect(decodeFrame(refused.bytes)).toMatchObject({ command: 'CONNECT_RESP', status: 5 });
    await closed(b.socket);
    expect(connects()).toBe(1);
    const stats = (await running.api.get('/api/v1/stats').expect(200)).body;
    expect(stats.cmppAccounts.find((r: { account: string }) => r.account === '900001')).toMatchObject({
      refusedCap: 1,
      sessions: 2,
    });

    // kill -9 of the worker holding the admitted session: its slot is handed back, the next login goes through.
    const holder = await waitFor(async () => {
      const workers = (await running.api.get('/api/v1/stats').expect(200)).body.workers as Array<{
        pid: number;
        sessions: number;
        state: string;
      }>;
      const busy = workers.filter((w) => w.sessions > 0);
      return busy.length === 1 ? busy[0] : undefined;
    });
    process.kill(holder.pid, 'SIGKILL');
    await closed(a.socket);
    await waitFor(async () => {
      const workers = (await running.api.get('/api/v1/stats').expect(200)).body.workers as Array<{
        pid: number;
        state: string;
      }>;
      return workers.every((w) => w.state === 'running' && w.pid !== holder.pid);
    }, 10_000);
    // The slots of a dead worker are handed back when its exit is seen, before its replacement runs.
    const c = await Sp.connect(running.port, '127.0.0.40');
    sps.push(c);
    expect(
      decodeFrame((await c.login('900001')).bytes),
      running.appliance.output().slice(-2000),
    ).toMatchObject({
      status: 0,
    });
    expect(connects()).toBe(2);
  } finally {
    for (const sp of sps) sp.close();
  }
}, 60_000);

it('login rates hold across workers too: the buckets live in the main process', async () => {
  const rated = await running.api
    .patch('/api/v1/backends/b')
    .send({ cmpp: { loginRate: { perAccount: { logins: 2, per: '1m' } } } });
  expect(rated.status, JSON.stringify(rated.body)).toBe(200);
  // Two connections on one worker and one on the other (bounded: 24 tries).
  const sps: Sp[] = [];
  try {
    let picked: [Sp, Sp, Sp] | undefined;
    for (let i = 0; i < 24 && picked === undefined; i++) {
      sps.push(await Sp.connect(running.port, `127.0.0.${60 + i}`));
      const owners = await workerOf(sps);
      const first = sps[0];
      const same = sps.find((sp) => sp !== first && owners.get(sp) === owners.get(first));
      const other = sps.find((sp) => owners.get(sp) !== owners.get(first));
      if (same !== undefined && other !== undefined) picked = [first, other, same];
    }
    expect(picked, 'two connections on one worker, one on the other').toBeDefined();
    const [a1, b1, a2] = picked!;
    for (const sp of sps) if (!picked!.includes(sp)) sp.close();
    const before = connects();
    expect(decodeFrame((await a1.login('900050')).bytes)).toMatchObject({ status: 0 });
    expect(decodeFrame((await b1.login('900050')).bytes)).toMatchObject({ status: 0 });
    // The account's third login in a minute, on the first worker (which has admitted only one itself).
    const startedAt = performance.now();
    expect(decodeFrame((await a2.login('900050')).bytes)).toMatchObject({ status: 5 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(connects()).toBe(before + 2);
    const stats = (await running.api.get('/api/v1/stats').expect(200)).body;
    expect(stats.cmppAccounts.find((r: { account: string }) => r.account === '900050')).toMatchObject({
      refusedRate: 1,
      refusedCap: 0,
    });
  } finally {
    for (const sp of sps) sp.close();
  }
}, 60_000);
