// A CONNECT flood on a backend with limits (issue 12 points 3 and 5), through the real app and real sockets: 300
// logins refused at the cap and 300 over the login rate (the latter held 1 s each in the delayed queue), from clients
// that never close. Tether keeps no timer per refusal (one queue timer, the idle sweep cuts the lingerers: counted with
// Node's public process.getActiveResourcesInfo()), every client hears status 5, and every session is gone after the
// linger; no CONNECT reaches the gateway.
import net, { type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, connectFrame, type Gateway } from '../helpers/cmpp-peers.js';
import { freePort, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

let t: StartedApp;
let gateway: Gateway;
let capPort: number;
let ratePort: number;
const FLOOD = 300;

beforeAll(async () => {
  gateway = await cmppGateway();
  t = await startApp();
  capPort = await freePort();
  ratePort = await freePort();
  for (const [name, cmpp] of [
    ['capped', { accounts: [{ account: '900099', maxConnections: 0 }] }],
    ['rated', { loginRate: { perAccount: { logins: 1, per: '1h' } } }],
  ] as const)
    await t.request
      .post('/api/v1/backends')
      .send(backendBody(name, [serverBody('gw', gateway.port)], { cmpp }))
      .expect(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('fc', capPort, 'capped', { inspect: 'cmpp' }))
    .expect(201);
  await t.request
    .post('/api/v1/frontends')
    .send(frontendBody('fr', ratePort, 'rated', { inspect: 'cmpp' }))
    .expect(201);
});
afterAll(async () => {
  await t?.close();
  await gateway?.close();
});

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** FLOOD clients logging in as `account`; they read but never close. */
async function flood(port: number, account: string) {
  const answers: Buffer[] = [];
  let closedByTether = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < FLOOD; i++) {
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      localAddress: `127.0.1.${1 + (i % 200)}`,
      allowHalfOpen: true,
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => answers.push(chunk));
    socket.on('close', () => closedByTether++);
    socket.write(connectFrame(account, i + 1));
    sockets.push(socket);
  }
  return { answers, sockets, closed: () => closedByTether };
}

async function liveSessions(frontend: string): Promise<number> {
  const res = await t.request.get('/api/v1/sessions').query({ frontend }).expect(200);
  return res.body.length as number;
}

for (const [what, port, frontend, account] of [
  ['cap', () => capPort, 'fc', '900099'],
  ['rate', () => ratePort, 'fr', '900001'],
] as const) {
  it(`${FLOOD} logins refused for the ${what}: no timer each, all answered status 5, all cut after the linger`, async () => {
    const before = timers();
    const f = await flood(port(), account);
    let most = 0;
    await waitFor(() => {
      most = Math.max(most, timers());
      return Buffer.concat(f.answers).length >= FLOOD * 33;
    }, 15_000);
    // A handful of timers (the app's own, the queue's one): nowhere near one per refusal.
    expect(most - before, `timers: ${before} before, at most ${most} during`).toBeLessThan(20);
    const statuses = new Map<number, number>();
    const frames = Buffer.concat(f.answers);
    for (let at = 0; at < frames.length; at += 33) {
      expect(frames.readUInt32BE(at + 4)).toBe(CommandId.CONNECT_RESP);
      const status = frames.readUInt32BE(at + 12);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    // The rate lets one login an hour through: the gateway answers it (status 0).
    expect(Object.fromEntries(statuses)).toEqual(what === 'cap' ? { 5: FLOOD } : { 0: 1, 5: FLOOD - 1 });
    await waitFor(async () => (await liveSessions(frontend)) <= (what === 'rate' ? 1 : 0), 10_000);
    for (const s of f.sockets) s.destroy();
    expect(gateway.received.filter((g) => g.commandId === CommandId.CONNECT).length).toBe(
      what === 'rate' ? 1 : 0,
    );
  }, 40_000);
}
