// The lossless close of inspected CMPP sessions (issue 12 point 2): shutdownSessions(b, s, { graceful: true }) and
// onMarkedDown: terminate. Under load with the simulators (SPs with 16 SUBMITs in flight that resend unanswered
// ones on their next connection, a gateway recording every SUBMIT): every SUBMIT acknowledged exactly once, none at
// a gateway twice, none ambiguous, every client on the other server. Frame by frame with small peers: answers
// owed are relayed both ways after the TERMINATE, new requests from neither side; the hard limit. tshark decodes
// the TERMINATE and TERMINATE_RESP Tether writes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  encodeDeliver,
  encodeDeliverResp,
  encodeTerminate,
  encodeTerminateResp,
} from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { TETHER_SEQUENCE_ID } from '../../src/runtime/cmpp-close.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { Backend } from '../../src/schema/snapshot.js';
import { startGateway, type GatewaySim } from '../../src/sim/gateway.js';
import { startSp, type SpSim } from '../../src/sim/sp.js';
import { cmppGateway, type Frame, Sp } from '../helpers/cmpp-peers.js';
import { backend, closed, freePort, frontend, server, sleep, snapshot, waitFor } from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ACCOUNTS = ['901234', '901235', '901236', '901237'];
const PER_SP = 1500;

async function runtimeFor(ports: number[], overrides: Partial<Backend> = {}, nodeInternals = true) {
  const port = await freePort();
  const rt = new ProxyRuntime({ nodeInternals });
  cleanups.push(() => rt.close());
  await rt.apply(
    snapshot(
      [frontend('sms', port, 'gw', { inspect: 'cmpp' })],
      [
        backend(
          'gw',
          ports.map((p, i) => server(`gw${i + 1}`, p)),
          overrides,
        ),
      ],
    ),
  );
  return { rt, port };
}

function sims(g: GatewaySim, port: number, version: '2.0' | '3.0' = '3.0'): SpSim[] {
  return ACCOUNTS.map((account, i) => {
    const sp = startSp({
      host: '127.0.0.1',
      port,
      version,
      account,
      secret: 's',
      connections: 2,
      window: 16,
      rate: 4000,
      total: PER_SP,
      reconnectMs: 50,
      localAddress: `127.0.0.${10 + i}`,
    });
    cleanups.push(() => sp.stop());
    return sp;
  });
}

async function onServer(rt: ProxyRuntime, name: string): Promise<number> {
  return (await rt.sessions()).filter((s) => s.server === name).length;
}

// CMPP 3.0 clients on the private relay paths, 2.0 clients (21-byte SUBMIT_RESPs) on the public ones.
for (const [nodeInternals, version] of [
  [true, '3.0'],
  [false, '2.0'],
] as const) {
  describe(`lossless close under load (CMPP ${version}, ${nodeInternals ? 'private' : 'public'} relay paths)`, () => {
    it('shutdown-sessions graceful: every SUBMIT acknowledged once, none twice at a gateway, none ambiguous', async () => {
      const g = await startGateway({
        ports: [0, 0],
        accounts: ACCOUNTS.map((account) => ({ account, secret: 's', maxConnections: 8 })),
        record: true,
        // Answers 20 ms late: each connection has its whole window (16) in flight at the gateway.
        answerDelayMs: 20,
        activeTestMs: 0,
      });
      cleanups.push(() => g.close());
      const { rt, port } = await runtimeFor(g.ports, {}, nodeInternals);
      const sps = sims(g, port, version);
      await waitFor(
        () => sps.every((sp) => sp.counters().connected === 2 && sp.counters().acked >= 200),
        20_000,
        'SPs submitting',
      );
      const onGw1 = await onServer(rt, 'gw1');
      expect(onGw1).toBeGreaterThan(0);
      await rt.setServerState('gw', 'gw1', 'drain');
      expect(await rt.shutdownSessions('gw', 'gw1', { graceful: true })).toBe(onGw1);

      await waitFor(
        () => sps.every((sp) => sp.counters().acked >= PER_SP && sp.counters().outstanding === 0),
        60_000,
        'every SUBMIT acknowledged',
      );
      await waitFor(async () => (await onServer(rt, 'gw1')) === 0, 10_000, 'gw1 empty');
      // No SUBMIT reached a gateway twice.
      const recorded = g.recorded();
      expect(g.recordOverflow()).toBe(false);
      expect(recorded.size).toBe(ACCOUNTS.length * PER_SP);
      expect([...recorded.values()].filter((n) => n !== 1)).toEqual([]);
      for (const sp of sps) {
        expect(sp.counters()).toMatchObject({ acked: PER_SP, duplicateAcks: 0, failed: 0, expired: 0 });
      }
      // Every client got Tether's TERMINATE and came back, on the other server.
      const terminated = sps.reduce((n, sp) => n + sp.counters().terminated, 0);
      expect(terminated).toBe(onGw1);
      await waitFor(() => sps.every((sp) => sp.counters().connected === 2), 10_000, 'reconnected');
      const live = await rt.sessions();
      expect(live).toHaveLength(8);
      expect(live.every((s) => s.server === 'gw2')).toBe(true);
      // gw1 got one TERMINATE per session from Tether, none was ambiguous.
      expect(g.counters()[0].terminates).toBe(onGw1);
      const stats = await rt.stats();
      expect(stats.frontends[0].cmpp!.ambiguous).toBe(0);
      expect(stats.cmppAccounts!.map((a) => a.ambiguous)).toEqual(ACCOUNTS.map(() => 0));
      expect(stats.cmppAccounts!.map((a) => a.version)).toEqual(ACCOUNTS.map(() => version));
    });
  });
}

describe('lossless close, frame by frame', () => {
  it('answers owed are relayed both ways after the TERMINATE; new requests from neither side', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor([gateway.port]);
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
    // Owed to the server: a DELIVER the client has not answered yet.
    const gatewaySide = gateway.accepted[0] as Socket;
    gatewaySide.write(deliver(41));
    expect((await sp.next(1))[0]).toMatchObject({ commandId: CommandId.DELIVER, sequenceId: 41 });
    // Owed to the client: three SUBMITs the gateway holds, and one whose first bytes went out before the close.
    gateway.hold = true;
    sp.socket.write(Buffer.concat([1, 2, 3].map((seq) => sp.submit(seq, '900001'))));
    const split = sp.submit(4, '900001');
    sp.socket.write(split.subarray(0, 20));
    await waitFor(() => submitsAt(gateway.received).length === 3);
    await sleep(50); // the 20 bytes have passed Tether

    expect(await rt.shutdownSessions('gw', 'gw1', { graceful: true })).toBe(1);
    const [terminate] = await sp.next(1);
    expect(terminate).toMatchObject({ commandId: CommandId.TERMINATE, sequenceId: TETHER_SEQUENCE_ID });
    // The rest of the started SUBMIT passes; a new SUBMIT and a new DELIVER don't.
    sp.socket.write(Buffer.concat([split.subarray(20), sp.submit(5, '900001')]));
    gatewaySide.write(deliver(42));
    sp.socket.write(
      Buffer.concat([
        encodeDeliverResp({ sequenceId: 41, msgId: Buffer.alloc(8), result: 0, version: '3.0' }),
      ]),
    );
    sp.socket.write(encodeTerminateResp(TETHER_SEQUENCE_ID));
    await waitFor(() => submitsAt(gateway.received).length === 4);
    await waitFor(() =>
      gateway.received.some((f) => f.commandId === CommandId.DELIVER_RESP && f.sequenceId === 41),
    );
    await sleep(100);
    // Nothing outstanding toward the client yet: the gateway still owes 4 answers, so no TERMINATE to it yet.
    expect(gateway.received.some((f) => f.commandId === CommandId.TERMINATE)).toBe(false);
    gateway.release();
    const answers = await sp.next(4);
    expect(answers.map((f) => [f.commandId, f.sequenceId])).toEqual(
      [1, 2, 3, 4].map((seq) => [CommandId.SUBMIT_RESP, seq]),
    );
    // Then TERMINATE to the gateway, its TERMINATE_RESP, both legs closed.
    await waitFor(() =>
      gateway.received.some(
        (f) => f.commandId === CommandId.TERMINATE && f.sequenceId === TETHER_SEQUENCE_ID,
      ),
    );
    await closed(sp.socket);
    await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'session gone');
    expect(submitsAt(gateway.received).map((f) => f.sequenceId)).toEqual([1, 2, 3, 4]);
    expect(gateway.received.some((f) => f.commandId === CommandId.TERMINATE_RESP)).toBe(false);
    const stats = await rt.stats();
    expect(stats.cmppAccounts![0]).toMatchObject({ account: '900001', ambiguous: 0 });
  });

  it('hard limit: a gateway that never answers; the session is closed at backend.cmpp.closeTimeout, its SUBMITs ambiguous', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor([gateway.port], { cmpp: { closeTimeout: 600 } });
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    await sp.login('900001');
    gateway.hold = true;
    sp.socket.write(Buffer.concat(Array.from({ length: 16 }, (_, i) => sp.submit(i + 1, '900001'))));
    await waitFor(() => submitsAt(gateway.received).length === 16);
    const started = Date.now();
    expect(await rt.shutdownSessions('gw', undefined, { graceful: true })).toBe(1);
    const [terminate] = await sp.next(1);
    expect(terminate.commandId).toBe(CommandId.TERMINATE);
    sp.socket.write(encodeTerminateResp(terminate.sequenceId));
    await closed(sp.socket, 5000);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(4000);
    await waitFor(async () => (await rt.sessions()).length === 0, 5000, 'session gone');
    const stats = await rt.stats();
    expect(stats.cmppAccounts![0]).toMatchObject({ account: '900001', ambiguous: 16 });
    expect(stats.frontends[0].cmpp!.ambiguous).toBe(16);
    expect(stats.backends[0].servers[0].cmpp!.ambiguous).toBe(16);
  });

  it('a client that resets right after its TERMINATE_RESP leaves the answers owed to it ambiguous', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor([gateway.port]);
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    await sp.login('900001');
    gateway.hold = true;
    sp.socket.write(Buffer.concat([1, 2, 3].map((seq) => sp.submit(seq, '900001'))));
    await waitFor(() => submitsAt(gateway.received).length === 3);
    await rt.shutdownSessions('gw', 'gw1', { graceful: true });
    const [terminate] = await sp.next(1);
    sp.socket.write(encodeTerminateResp(terminate.sequenceId));
    await sleep(50);
    sp.socket.resetAndDestroy();
    await sleep(50);
    gateway.release(); // too late: the client is gone
    await waitFor(async () => (await rt.sessions()).length === 0, 5000, 'session gone');
    expect((await rt.stats()).cmppAccounts![0]).toMatchObject({ account: '900001', ambiguous: 3 });
    // The gateway still got Tether's TERMINATE once nothing was owed any more.
    expect(
      gateway.received.some(
        (f) => f.commandId === CommandId.TERMINATE && f.sequenceId === TETHER_SEQUENCE_ID,
      ),
    ).toBe(true);
  });

  it('a client that TERMINATEs itself during the close is answered by Tether; uninspected sessions are cut', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor([gateway.port]);
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    await sp.login('900001');
    await rt.shutdownSessions('gw', 'gw1', { graceful: true });
    expect((await sp.next(1))[0].commandId).toBe(CommandId.TERMINATE);
    sp.socket.write(encodeTerminate(9));
    expect((await sp.next(1))[0]).toMatchObject({ commandId: CommandId.TERMINATE_RESP, sequenceId: 9 });
    await closed(sp.socket);
    // The gateway saw Tether's TERMINATE, not the client's.
    await waitFor(() => gateway.received.some((f) => f.commandId === CommandId.TERMINATE));
    expect(
      gateway.received.filter((f) => f.commandId === CommandId.TERMINATE).map((f) => f.sequenceId),
    ).toEqual([TETHER_SEQUENCE_ID]);
  });
});

for (const nodeInternals of [true, false]) {
  it(`a client gone after its TERMINATE_RESP and FIN: the gateway's TERMINATE_RESP is still read (${nodeInternals ? 'private' : 'public'} paths)`, async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor([gateway.port], {}, nodeInternals);
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    await sp.login('900001');
    gateway.hold = true;
    sp.socket.write(Buffer.concat([1, 2, 3].map((seq) => sp.submit(seq, '900001'))));
    await waitFor(() => submitsAt(gateway.received).length === 3);
    await rt.shutdownSessions('gw', 'gw1', { graceful: true });
    const [terminate] = await sp.next(1);
    // Answers, half-closes, and is gone: to Tether it looks like a half-close until a write fails.
    sp.socket.end(encodeTerminateResp(terminate.sequenceId));
    sp.socket.destroySoon();
    await waitFor(() => sp.socket.destroyed);
    await sleep(50);
    gateway.release(); // the answers owed are written to a client that is gone
    await waitFor(() => gateway.received.some((f) => f.commandId === CommandId.TERMINATE));
    const asked = Date.now();
    // The server side was not left paused behind the dead client: its TERMINATE_RESP ends the session at once,
    // not after the 2 s wait and the 2 s linger.
    await waitFor(async () => (await rt.sessions()).length === 0, 5000, 'session gone');
    expect(Date.now() - asked).toBeLessThan(1500);
  });
}

describe('lossless close, what it leaves alone', () => {
  it('graceful on an uninspected frontend, or before the login, is the plain cut', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const port = await freePort();
    const inspectedPort = await freePort();
    const rt = new ProxyRuntime();
    cleanups.push(() => rt.close());
    await rt.apply(
      snapshot(
        [
          frontend('plain', port, 'gw', { inspect: 'none' }),
          frontend('sms', inspectedPort, 'gw', { inspect: 'cmpp' }),
        ],
        [backend('gw', [server('gw1', gateway.port)])],
      ),
    );
    const plain = await Sp.connect(port);
    cleanups.push(() => plain.close());
    await plain.login('900001');
    const early = await Sp.connect(inspectedPort); // connected, no CONNECT yet
    cleanups.push(() => early.close());
    await waitFor(async () => (await rt.sessions()).filter((s) => s.state === 'established').length === 2);
    expect(await rt.shutdownSessions('gw', 'gw1', { graceful: true })).toBe(2);
    // Cut: nothing but the close reaches either client, no TERMINATE reaches the gateway.
    expect(await closed(plain.socket)).toHaveLength(0);
    expect(await closed(early.socket)).toHaveLength(0);
    await waitFor(async () => (await rt.sessions()).length === 0, 3000, 'sessions gone');
    expect(gateway.received.some((f) => f.commandId === CommandId.TERMINATE)).toBe(false);
  });
});

describe('onMarkedDown: terminate', () => {
  it('a server marked DOWN by its check has its inspected sessions closed the CMPP way', async () => {
    const g = await startGateway({
      ports: [0, 0],
      accounts: ACCOUNTS.map((account) => ({ account, secret: 's', maxConnections: 8 })),
      record: true,
      answerDelayMs: 20,
      activeTestMs: 0,
    });
    cleanups.push(() => g.close());
    // Health decided elsewhere and pushed (as the worker pool does): gw1 goes DOWN through the checker's path.
    const port = await freePort();
    const rt = new ProxyRuntime({ checks: 'external' });
    cleanups.push(() => rt.close());
    const check = { type: 'tcp' as const, inter: 1000, fall: 1, rise: 1 };
    await rt.apply(
      snapshot(
        [frontend('sms', port, 'gw', { inspect: 'cmpp' })],
        [
          backend(
            'gw',
            [server('gw1', g.ports[0], { check: true }), server('gw2', g.ports[1], { check: true })],
            {
              onMarkedDown: 'terminate',
              check,
            },
          ),
        ],
      ),
    );
    const sps = sims(g, port);
    await waitFor(
      () => sps.every((sp) => sp.counters().connected === 2 && sp.counters().acked >= 200),
      20_000,
    );
    const onGw1 = await onServer(rt, 'gw1');
    expect(onGw1).toBeGreaterThan(0);
    // Mark gw1 DOWN through the path a checker takes (workers push health this way).
    rt.pushHealth([
      { backend: 'gw', server: 'gw1', health: 'DOWN', checkStatus: 'L4CON', description: 'test' },
    ]);
    await waitFor(
      () => sps.every((sp) => sp.counters().acked >= PER_SP && sp.counters().outstanding === 0),
      60_000,
      'every SUBMIT acknowledged',
    );
    expect([...g.recorded().values()].filter((n) => n !== 1)).toEqual([]);
    expect(sps.reduce((n, sp) => n + sp.counters().terminated, 0)).toBe(onGw1);
    expect((await rt.stats()).frontends[0].cmpp!.ambiguous).toBe(0);
  });
});

const submitsAt = (frames: Frame[]) => frames.filter((f) => f.commandId === CommandId.SUBMIT);

function deliver(sequenceId: number): Buffer {
  return encodeDeliver({
    sequenceId,
    version: '3.0',
    msgId: Buffer.alloc(8, 2),
    destId: '10658000',
    srcTerminalId: '13800138000',
    registeredDelivery: 0,
    content: Buffer.from('hello'),
  });
}

// ---- tshark ----

const missing = ['tshark', 'text2pcap'].find((tool) => spawnSync(tool, ['--version']).error !== undefined);
const dir = mkdtempSync(join(tmpdir(), 'tether-close-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames as TCP packets from the gateway port 7890 (or to it), decoded by tshark's CMPP dissector. */
function dissect(frames: Buffer[], fromGateway: boolean, name: string): Record<string, unknown>[] {
  const hex = frames
    .map((f) => {
      let text = '';
      for (let i = 0; i < f.length; i += 16)
        text += `${i.toString(16).padStart(6, '0')} ${[...f.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
      return text;
    })
    .join('');
  const dump = join(dir, `${name}.txt`);
  const pcap = join(dir, `${name}.pcap`);
  writeFileSync(dump, hex);
  execFileSync('text2pcap', ['-q', '-T', fromGateway ? '7890,40000' : '40000,7890', dump, pcap], {
    stdio: 'ignore',
  });
  const json = execFileSync('tshark', ['-r', pcap, '-d', 'tcp.port==7890,cmpp', '-T', 'json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  const packets = JSON.parse(json) as { _source: { layers: Record<string, Record<string, unknown>> } }[];
  expect(packets).toHaveLength(frames.length);
  return packets.map(({ _source: { layers } }) => {
    expect(Object.keys(layers).filter((k) => k.startsWith('_ws'))).toEqual([]);
    return layers.cmpp;
  });
}

describe.skipIf(missing !== undefined)('tshark decodes the frames of a lossless close', () => {
  it('TERMINATE to the client and to the gateway, TERMINATE_RESP to a client, as written on real connections', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor([gateway.port]);
    const toGateway: Buffer[] = [];
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    await sp.login('900001');
    await rt.shutdownSessions('gw', 'gw1', { graceful: true });
    const [terminate] = await sp.next(1);
    sp.socket.write(encodeTerminate(5));
    const [terminateResp] = await sp.next(1);
    await closed(sp.socket);
    await waitFor(() => gateway.received.some((f) => f.commandId === CommandId.TERMINATE));
    for (const f of gateway.received) if (f.commandId === CommandId.TERMINATE) toGateway.push(f.bytes);
    const down = dissect([terminate.bytes, terminateResp.bytes], true, 'down');
    expect(down[0]).toMatchObject({
      'cmpp.Total_Length': '12',
      'cmpp.Command_Id': '0x00000002',
      'cmpp.Sequence_Id': String(TETHER_SEQUENCE_ID),
    });
    expect(down[1]).toMatchObject({
      'cmpp.Total_Length': '12',
      'cmpp.Command_Id': '0x80000002',
      'cmpp.Sequence_Id': '5',
    });
    const up = dissect(toGateway, false, 'up');
    expect(up).toEqual([
      expect.objectContaining({
        'cmpp.Total_Length': '12',
        'cmpp.Command_Id': '0x00000002',
        'cmpp.Sequence_Id': String(TETHER_SEQUENCE_ID),
      }),
    ]);
  });
});
