// The simulators (issue 11, point 5) against each other and against a hand-written gateway that
// holds answers back: logins, windowed submits, status reports, throttling, the per-account connection
// cap, source addresses, resends on the next connection, and the CLIs as `npm run sim:*` runs them.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameAssembler } from '../../src/cmpp/assembler.js';
import { authenticatorIsmg, authenticatorSource, cmppTimestamp } from '../../src/cmpp/auth.js';
import {
  decodeFrame,
  encodeConnect,
  encodeConnectResp,
  encodeSubmit,
  encodeSubmitResp,
} from '../../src/cmpp/codec.js';
import { startGateway, type GatewaySim } from '../../src/sim/gateway.js';
import { startSp, type SpSim } from '../../src/sim/sp.js';
import { freePort, loopBarrier, waitFor } from '../helpers/net.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function gateway(options: Partial<Parameters<typeof startGateway>[0]> = {}): Promise<GatewaySim> {
  const g = await startGateway({ ports: [0], accounts: [{ account: '901234', secret: 's' }], ...options });
  cleanups.push(() => g.close());
  return g;
}
function sp(port: number, options: Partial<Parameters<typeof startSp>[0]> = {}): SpSim {
  const s = startSp({
    host: '127.0.0.1',
    port,
    account: '901234',
    secret: 's',
    rate: 2000,
    window: 16,
    ...options,
  });
  cleanups.push(() => s.stop());
  return s;
}
const sum = (g: GatewaySim, key: 'submits' | 'throttled' | 'reportsAcked') =>
  g.counters().reduce((n, c) => n + c[key], 0);

describe('gateway and SP simulators', () => {
  it('submit with a window over several connections, every SUBMIT answered and every report acknowledged', async () => {
    const g = await gateway();
    const s = sp(g.ports[0], { connections: 3, total: 600, window: 8 });
    await waitFor(() => s.counters().acked === 600 && s.counters().reports === 600, 20_000, 'all acked');
    expect(s.counters()).toMatchObject({ sent: 600, resent: 0, failed: 0, connected: 3, outstanding: 0 });
    expect(sum(g, 'submits')).toBe(600);
    await waitFor(() => sum(g, 'reportsAcked') === 600, 5000, 'reports acked');
    expect(s.latency().count).toBe(600);
    await s.stop();
    expect(g.counters()[0].terminates).toBe(3);
  });

  it('throttles above the rate with result 8, and the SP resends until accepted', async () => {
    const g = await gateway({ throttle: 100 });
    // 400 at 1000/s: the gateway counts per calendar second, and 150 could fall either side of a second's
    // turn with 100 or fewer in each; 400 within two or three seconds cannot.
    const s = sp(g.ports[0], { total: 400, rate: 1000 });
    await waitFor(() => s.counters().acked === 400, 30_000, 'all accepted in the end');
    expect(s.counters().throttled).toBeGreaterThan(0);
    expect(sum(g, 'throttled')).toBe(s.counters().throttled);
    expect(sum(g, 'submits')).toBe(400 + s.counters().throttled);
  });

  it('heartbeats both ways: each sends ACTIVE_TEST when idle and the other answers it', async () => {
    // The gateway's: the SP is idle after its one SUBMIT and sends no heartbeat of its own for a minute.
    const g = await gateway({ activeTestMs: 100 });
    const s = sp(g.ports[0], { total: 1, heartbeatMs: 60_000 });
    await waitFor(() => g.counters()[0].activeTestsAnswered >= 2, 5000, 'the SP answers the gateway');
    expect(g.counters()[0].activeTests).toBe(0);
    expect(s.counters()).toMatchObject({ acked: 1, connected: 1 });
    // The SP's: the gateway never sends one.
    const quiet = await gateway({ activeTestMs: 0 });
    sp(quiet.ports[0], { total: 1, heartbeatMs: 100 });
    await waitFor(() => quiet.counters()[0].activeTests >= 2, 5000, 'the gateway answers the SP');
    expect(quiet.counters()[0].activeTestsAnswered).toBe(0);
  });

  it('refuses connections past the account cap with status 5', async () => {
    const g = await gateway({ accounts: [{ account: '901234', secret: 's', maxConnections: 2 }] });
    const s = sp(g.ports[0], { connections: 3, total: 1, reconnectMs: 200 });
    await waitFor(() => (s.counters().loginFailures[5] ?? 0) >= 2, 10_000, 'refused twice');
    expect(s.counters().connected).toBe(2);
  });

  it('connects from --src, which the gateway checks against the account', async () => {
    const g = await gateway({ accounts: [{ account: '901234', secret: 's', allowedIps: ['127.0.0.7'] }] });
    const from7 = sp(g.ports[0], { localAddress: '127.0.0.7', total: 5 });
    const from8 = sp(g.ports[0], { localAddress: '127.0.0.8', total: 5, reconnectMs: 5000 });
    await waitFor(
      () => from7.counters().acked === 5 && (from8.counters().loginFailures[2] ?? 0) === 1,
      10_000,
    );
    expect(from8.counters().acked).toBe(0);
  });

  it('stops reading from a client that does not read its answers', async () => {
    const g = await gateway();
    const client = net.connect({ host: '127.0.0.1', port: g.ports[0] });
    client.on('error', () => {});
    cleanups.push(() => void client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));
    client.write(
      encodeConnect({
        sequenceId: 0,
        account: '901234',
        secret: 's',
        timestamp: cmppTimestamp(),
        version: '3.0',
      }),
    );
    client.pause(); // never reads an answer
    const submit = encodeSubmit({
      sequenceId: 1,
      version: '3.0',
      account: '901234',
      srcId: '10658000',
      recipients: ['13800138000'],
      content: Buffer.alloc(140, 0x41),
      registeredDelivery: 1,
    });
    const total = 100_000;
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => submit));
    for (let i = 0; i < total / 1000; i++) client.write(batch);
    await waitFor(() => g.counters()[0].pausedReads > 0, 30_000, 'the gateway to stop reading');
    // Reading really stopped: the loop polls the socket again and again, and no further SUBMIT is read.
    const before = g.counters()[0].submits;
    for (let i = 0; i < 20; i++) await loopBarrier();
    expect(g.counters()[0].submits).toBe(before);
    expect(before).toBeLessThan(total);
  });

  it('resends unanswered SUBMITs on its next connection', async () => {
    // A gateway that leaves the first connection's SUBMITs unanswered and closes it, then answers all.
    const contents: string[][] = [];
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      const round = contents.push([]) - 1;
      const frames = new FrameAssembler();
      socket.on('data', (chunk: Buffer) =>
        frames.push(chunk, (raw) => {
          const f = decodeFrame(raw);
          if (f.command === 'CONNECT') {
            const source = authenticatorSource('901234', 's', f.timestamp);
            const ismg = authenticatorIsmg(0, source, 's', '3.0');
            socket.write(
              encodeConnectResp({ sequenceId: f.sequenceId, status: 0, authenticator: ismg, version: '3.0' }),
            );
          } else if (f.command === 'SUBMIT') {
            contents[round].push(f.content.toString());
            if (round === 0) {
              if (contents[0].length === 5) socket.destroy();
            } else {
              socket.write(
                encodeSubmitResp({
                  sequenceId: f.sequenceId,
                  msgId: Buffer.alloc(8),
                  result: 0,
                  version: '3.0',
                }),
              );
            }
          }
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const s = sp((server.address() as net.AddressInfo).port, {
      total: 5,
      window: 16,
      reconnectMs: 100,
      reports: false,
    });
    await waitFor(() => s.counters().acked === 5, 10_000, 'acked on the second connection');
    expect(contents[0]).toHaveLength(5);
    expect(contents[1].slice().sort()).toEqual(contents[0].slice().sort());
    expect(s.counters()).toMatchObject({ sent: 10, resent: 5 });
  });

  it('run as `npm run sim:gateway` and `npm run sim:sp`, print their figures each second', async () => {
    const port = await freePort();
    const run = (args: string[]) => {
      // Its own process group, so a signal reaches npm, tsx and node at once as Ctrl-C in a terminal does.
      const child = spawn('npm', ['run', '-s', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const interrupt = () => {
        try {
          process.kill(-(child.pid as number), 'SIGINT');
        } catch {
          // already gone
        }
      };
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      cleanups.push(async () => {
        interrupt();
        const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      });
      return { interrupt, exited, out: () => out };
    };
    const gw = run(['sim:gateway', '--', '--ports', String(port)]);
    await waitFor(() => gw.out().includes(`on 127.0.0.1:${port}`), 20_000, gw.out());
    const client = run([
      'sim:sp',
      '--',
      '--connect',
      `127.0.0.1:${port}`,
      '--rate',
      '200',
      '--src',
      '127.0.0.9',
    ]);
    await waitFor(
      () => /t=\d+s conns=1 sent=\d+\/s acked=[1-9]\d*\/s/.test(client.out()),
      20_000,
      client.out(),
    );
    expect(gw.out()).toMatch(new RegExp(`:${port} conns=1 submit/s=\\d+`));
    // Ctrl-C: the SP stops gracefully (answers awaited, TERMINATE) and prints its totals.
    client.interrupt();
    await client.exited;
    expect(client.out()).toMatch(/total sent=\d+ acked=[1-9]\d* .*expired=0/);
  });
});
