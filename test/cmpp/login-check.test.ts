// The CMPP login health check (issue 11, point 2) against the gateway simulator, which verifies the
// AuthenticatorSource and answers each status, and against peers that are not CMPP gateways.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmppTimestamp } from '../../src/cmpp/auth.js';
import { FrameAssembler } from '../../src/cmpp/assembler.js';
import {
  encodeActiveTest,
  encodeConnect,
  encodeConnectResp,
  encodeTerminateResp,
} from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { cmppProbe } from '../../src/runtime/health/cmpp-probe.js';
import type { CmppCheck } from '../../src/schema/snapshot.js';
import { startGateway, type GatewaySim } from '../../src/sim/gateway.js';
import { blackhole, closedPort, type Blackhole } from '../helpers/health-targets.js';
import { readBytes, waitFor } from '../helpers/net.js';

const TIMEOUT = 2000;
let v3: GatewaySim;
let v2: GatewaySim;
let wrongIsmg: GatewaySim;

const accounts = [
  { account: '900001', secret: 'good-secret' },
  { account: '900002', secret: 's', allowedIps: ['127.0.0.99'] },
  { account: '900003', secret: 's', maxConnections: 1 },
  { account: '900004', secret: 's', status: 9 },
];
const login = (sourceAddr: string, secret = 's', version: CmppCheck['version'] = '3.0'): CmppCheck => ({
  sourceAddr,
  secret,
  version,
});
const probe = (gateway: GatewaySim, check: CmppCheck) =>
  cmppProbe(check)({ address: '127.0.0.1', port: gateway.ports[0] }, TIMEOUT);

beforeAll(async () => {
  v3 = await startGateway({ ports: [0], accounts, version: '3.0' });
  v2 = await startGateway({ ports: [0], accounts, version: '2.0' });
  wrongIsmg = await startGateway({ ports: [0], accounts, wrongAuthenticator: true });
});
afterAll(async () => {
  await Promise.all([v3?.close(), v2?.close(), wrongIsmg?.close()]);
});

describe('cmpp login check against a CMPP gateway', () => {
  it('status 0 is L7OK, verified AuthenticatorISMG, and the session is terminated and closed at once', async () => {
    const result = await probe(v3, login('900001', 'good-secret'));
    expect(result).toMatchObject({
      ok: true,
      status: 'L7OK',
      description: 'CMPP 3.0 login ok (status 0)',
      code: 0,
    });
    // The check's TERMINATE reached the gateway and the slot is free again.
    await waitFor(() => v3.counters()[0].open === 0 && v3.counters()[0].terminates === 1, 5000);
    expect(v3.counters()[0].logins).toEqual({ 0: 1 });
  });

  it('gives a one-connection account back: two checks in a row both log in', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await probe(v3, login('900003'))).status).toBe('L7OK');
      await waitFor(() => v3.counters()[0].open === 0, 5000);
    }
  });

  it('reports every refusal as L7STS with the status and its meaning', async () => {
    const cases: [CmppCheck, string, number][] = [
      [login('900001', 'wrong-secret'), 'status 3 (authentication failed)', 3],
      [login('999999'), 'status 2 (illegal source address (account or IP not allowed))', 2],
      [login('900002'), 'status 2 (illegal source address (account or IP not allowed))', 2],
      [login('900004'), 'status 9 (other error)', 9],
    ];
    for (const [check, text, code] of cases) {
      const result = await probe(v3, check);
      expect(result, check.sourceAddr).toMatchObject({
        ok: false,
        status: 'L7STS',
        description: `CMPP 3.0 login refused: ${text}`,
        code,
      });
    }
  });

  it('reports status 5 when the account is at its connection limit', async () => {
    const holder = net.connect({ host: '127.0.0.1', port: v3.ports[0] });
    holder.on('error', () => {});
    try {
      holder.write(
        encodeConnect({
          sequenceId: 0,
          account: '900003',
          secret: 's',
          timestamp: cmppTimestamp(),
          version: '3.0',
        }),
      );
      const resp = await readBytes(holder, 33);
      expect(resp.readUInt32BE(12)).toBe(0);
      const result = await probe(v3, login('900003'));
      expect(result).toMatchObject({
        status: 'L7STS',
        description: expect.stringContaining('status 5 (too many connections'),
      });
    } finally {
      holder.destroy();
    }
  });

  it('decodes a 2.0 answer by its length: version too high is status 4, a 2.0 login is L7OK', async () => {
    expect(await probe(v2, login('900001', 'good-secret', '3.0'))).toMatchObject({
      status: 'L7STS',
      description: 'CMPP 2.0 login refused: status 4 (version too high)',
    });
    expect(await probe(v2, login('900001', 'good-secret', '2.0'))).toMatchObject({
      status: 'L7OK',
      description: 'CMPP 2.0 login ok (status 0)',
    });
    // A 3.0 gateway answers a 2.0 client in 2.0, and the ISMG authenticator uses the 1-byte status.
    expect((await probe(v3, login('900001', 'good-secret', '2.0'))).description).toBe(
      'CMPP 2.0 login ok (status 0)',
    );
  });

  it('reports a wrong AuthenticatorISMG without failing the check', async () => {
    expect(await probe(wrongIsmg, login('900001', 'good-secret'))).toMatchObject({
      ok: true,
      status: 'L7OK',
      description: 'CMPP 3.0 login ok (status 0, AuthenticatorISMG mismatch)',
    });
  });
});

describe('cmpp login check against peers that do not log in', () => {
  const servers: net.Server[] = [];
  let hole: Blackhole | undefined;
  const serve = async (onConnection: (socket: net.Socket) => void) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      onConnection(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  };
  const at = (port: number, timeout = TIMEOUT) =>
    cmppProbe(login('900001'))({ address: '127.0.0.1', port }, timeout);
  afterAll(async () => {
    for (const s of servers) {
      s.close();
      (s as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    }
    await hole?.close();
  });

  it('a server that accepts and never answers is L7TOUT', async () => {
    const sockets: net.Socket[] = [];
    const port = await serve((socket) => sockets.push(socket));
    const result = await at(port, 300);
    expect(result).toMatchObject({ ok: false, status: 'L7TOUT' });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
    for (const s of sockets) s.destroy();
  });

  it('a refused connection is L4CON; one never accepted is L4TOUT', async () => {
    expect(await at(await closedPort())).toMatchObject({
      status: 'L4CON',
      description: 'Connection refused',
    });
    hole = await blackhole();
    expect(await at(hole.port, 300)).toMatchObject({ status: 'L4TOUT' });
  });

  it('bytes that are not CMPP are L7RSP', async () => {
    const http = await serve((socket) =>
      socket.once('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n')),
    );
    expect(await at(http)).toMatchObject({
      status: 'L7RSP',
      description: expect.stringContaining('not CMPP'),
    });
    const closer = await serve((socket) => socket.once('data', () => socket.end()));
    expect(await at(closer)).toMatchObject({
      status: 'L7RSP',
      description: expect.stringContaining('closed'),
    });
    // A CONNECT_RESP of 25 bytes: neither the 2.0 (30) nor the 3.0 (33) layout.
    const short = Buffer.alloc(25);
    short.writeUInt32BE(25, 0);
    short.writeUInt32BE(0x80000001, 4);
    short.writeUInt32BE(1, 8);
    const wrongLength = await serve((socket) => socket.once('data', () => socket.write(short)));
    expect(await at(wrongLength)).toMatchObject({
      status: 'L7RSP',
      description: expect.stringContaining('malformed'),
    });
  });

  it('gives the slot back within milliseconds even to a gateway that never closes: TERMINATE, then its own close', async () => {
    // A gateway that logs in, answers TERMINATE and keeps its side open, as some wait for the client to close.
    // The slot is held from accept until the check's close reaches it; the bound is generous (the check's own
    // fallback, destroying a lingering socket, is 1 s) and measured on the gateway's side, not the check's.
    const held: number[] = [];
    const port = await serve((socket) => {
      const accepted = performance.now();
      const frames = new FrameAssembler();
      socket.on('data', (chunk: Buffer) =>
        frames.push(chunk, (frame) => {
          const command = frame.readUInt32BE(4);
          const seq = frame.readUInt32BE(8);
          if (command === CommandId.CONNECT)
            socket.write(encodeConnectResp({ sequenceId: seq, status: 0, version: '3.0' }));
          if (command === CommandId.TERMINATE) socket.write(encodeTerminateResp(seq));
        }),
      );
      socket.on('end', () => held.push(performance.now() - accepted));
    });
    for (let i = 0; i < 3; i++) expect((await at(port)).status).toBe('L7OK');
    await waitFor(() => held.length === 3, 5000, 'the check closed its side');
    expect(Math.max(...held)).toBeLessThan(250);
  });

  it('answers an ACTIVE_TEST that comes before the login and waits for the CONNECT_RESP', async () => {
    const seen: Buffer[] = [];
    const port = await serve((socket) => {
      socket.write(encodeActiveTest(0));
      socket.on('data', (chunk: Buffer) => {
        seen.push(chunk);
        if (Buffer.concat(seen).length >= 39 + 13)
          socket.write(encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' }));
      });
    });
    const result = await at(port);
    expect(result.status).toBe('L7OK');
    const all = Buffer.concat(seen);
    // CONNECT and the ACTIVE_TEST_RESP in whichever order they left.
    expect(all.includes(Buffer.from('0000000d8000000800000000', 'hex'))).toBe(true);
  });
});

describe('cmpp login check with an account CONNECT cannot carry (a config stored under older rules)', () => {
  it('fails every check without connecting and never throws', async () => {
    const result = await cmppProbe(login('中文字'))({ address: '127.0.0.1', port: v3.ports[0] }, TIMEOUT);
    expect(result).toMatchObject({
      ok: false,
      status: 'SOCKERR',
      description: 'CMPP check account is 9 bytes, at most 6',
    });
  });
});
