// Per-account connection caps and login rate limits (issue 12 points 3 and 5) through the real app: backends
// with `cmpp` limits created over REST, inspected frontends, real CMPP logins on loopback, Tether's own
// CONNECT_RESP refusals decoded, the gateway's view of who reached it, and the counts in /stats and /metrics.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, encodeConnect } from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, type Gateway, Sp } from '../helpers/cmpp-peers.js';
import { closed, freePort, waitFor } from '../helpers/net.js';
import { backendBody, expectError, frontendBody, serverBody } from '../control-plane/fixtures.js';

let app: StartedApp;
let gateway: Gateway;
let capPort: number;
let ratePort: number;

beforeAll(async () => {
  gateway = await cmppGateway();
  app = await startApp();
  capPort = await freePort();
  ratePort = await freePort();
  const capped = await app.request.post('/api/v1/backends').send(
    backendBody('capped', [serverBody('gw1', gateway.port)], {
      cmpp: {
        maxConnectionsPerAccount: 2,
        accounts: [
          { account: '900002', maxConnections: 1 },
          { account: '900003', maxConnections: 0 },
        ],
      },
    }),
  );
  expect(capped.status, JSON.stringify(capped.body)).toBe(201);
  expect(capped.body.cmpp).toEqual({
    maxConnectionsPerAccount: 2,
    accounts: [
      { account: '900002', maxConnections: 1 },
      { account: '900003', maxConnections: 0 },
    ],
  });
  const rated = await app.request.post('/api/v1/backends').send(
    backendBody('rated', [serverBody('gw1', gateway.port)], {
      cmpp: { loginRate: { perSource: { logins: 2, per: '1m' }, perAccount: { logins: 3, per: '1m' } } },
    }),
  );
  expect(rated.status, JSON.stringify(rated.body)).toBe(201);
  expect(rated.body.cmpp.loginRate).toEqual({
    perAccount: { logins: 3, per: 60_000 },
    perSource: { logins: 2, per: 60_000 },
  });
  for (const [name, port, backend] of [
    ['caps', capPort, 'capped'],
    ['rates', ratePort, 'rated'],
  ] as const) {
    const res = await app.request
      .post('/api/v1/frontends')
      .send(frontendBody(name, port, backend, { inspect: 'cmpp' }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});

afterAll(async () => {
  await app?.close();
  await gateway?.close();
});

const connects = (account: string) =>
  gateway.received.filter(
    (f) => f.commandId === CommandId.CONNECT && f.bytes.toString('latin1', 12, 18).startsWith(account),
  ).length;

/** A login on a raw socket: the CONNECT in `version`, everything Tether answers until it closes. */
async function refusedLogin(port: number, account: string, version: '2.0' | '3.0', source = '127.0.0.1') {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: source });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const startedAt = performance.now();
  socket.write(encodeConnect({ sequenceId: 4242, account, secret: 's', timestamp: 1205143000, version }));
  const bytes = await closed(socket, 10_000);
  return { bytes, ms: performance.now() - startedAt };
}

const noTshark = ['tshark', 'text2pcap'].some((tool) => spawnSync(tool, ['--version']).error !== undefined);

/** One frame as a gateway -> SP TCP packet, decoded by tshark's CMPP dissector: its cmpp layer. */
function tsharkDecode(frame: Buffer): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-caps-'));
  try {
    let hex = '';
    for (let i = 0; i < frame.length; i += 16)
      hex += `${i.toString(16).padStart(6, '0')} ${[...frame.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
    writeFileSync(join(dir, 'f.txt'), hex);
    execFileSync('text2pcap', ['-q', '-T', '7890,40000', join(dir, 'f.txt'), join(dir, 'f.pcap')], {
      stdio: 'ignore',
    });
    const json = execFileSync(
      'tshark',
      ['-r', join(dir, 'f.pcap'), '-d', 'tcp.port==7890,cmpp', '-T', 'json'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    ).toString();
    const [packet] = JSON.parse(json) as { _source: { layers: Record<string, Record<string, string>> } }[];
    expect(Object.keys(packet._source.layers).filter((k) => k.startsWith('_ws'))).toEqual([]);
    return packet._source.layers.cmpp;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function accountRow(account: string) {
  const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
  return stats.cmppAccounts.find((a: { account: string }) => a.account === account);
}

describe('per-account connection caps', () => {
  it('refuses the login past the cap with CONNECT_RESP status 5 in the version asked, never reaching the server', async () => {
    const a = await Sp.connect(capPort);
    const b = await Sp.connect(capPort);
    try {
      for (const sp of [a, b]) {
        const resp = await sp.login('900001');
        expect(decodeFrame(resp.bytes)).toMatchObject({ command: 'CONNECT_RESP', status: 0 });
      }
      expect(connects('900001')).toBe(2);
      for (const version of ['3.0', '2.0'] as const) {
        const { bytes } = await refusedLogin(capPort, '900001', version);
        // Exactly one frame, then the close: 33 bytes in 3.0 (4-byte Status), 30 in 2.0 (1-byte Status).
        expect(bytes.length).toBe(version === '3.0' ? 33 : 30);
        expect(decodeFrame(bytes, 0, version)).toEqual({
          command: 'CONNECT_RESP',
          commandId: CommandId.CONNECT_RESP,
          sequenceId: 4242,
          totalLength: bytes.length,
          layout: version,
          status: 5,
          authenticator: Buffer.alloc(16),
          version: version === '3.0' ? 0x30 : 0x20,
        });
      }
      expect(connects('900001')).toBe(2);
      if (!noTshark) {
        // An implementation we didn't write reads the refusal as it came off the socket (its dissector has the 3.0 layout).
        const { bytes } = await refusedLogin(capPort, '900001', '3.0');
        expect(tsharkDecode(bytes)).toMatchObject({
          'cmpp.Total_Length': '33',
          'cmpp.Command_Id': '0x80000001',
          'cmpp.Sequence_Id': '4242',
          'cmpp.connect_resp.Status': '5',
          'cmpp.Version': '03.00',
        });
      }
      const row = await accountRow('900001');
      const refusals = noTshark ? 2 : 3;
      expect(row).toMatchObject({ refusedCap: refusals, refusedRate: 0, sessions: 2 + refusals });
      const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
      expect(stats.frontends.find((f: { name: string }) => f.name === 'caps').cmpp).toMatchObject({
        refusedCap: refusals,
      });
      const metrics = (await app.request.get('/metrics').expect(200)).text;
      expect(metrics).toContain(
        `tether_cmpp_account_refused_logins_total{account="900001",reason="cap"} ${refusals}`,
      );
      expect(metrics).toContain(
        `tether_cmpp_frontend_refused_logins_total{proxy="caps",reason="cap"} ${refusals}`,
      );
      expect(metrics).not.toContain('tether_cmpp_server_refused_logins_total');

      // A session that ends gives its slot back: the next login goes through.
      await a.terminate(9);
      a.close();
      await waitFor(async () => {
        const sessions = (await app.request.get('/api/v1/sessions').expect(200)).body;
        return sessions.filter((s: { account?: string }) => s.account === '900001').length === 1;
      });
      const c = await Sp.connect(capPort);
      try {
        // A CONNECT split over three reads is read whole before the admission, as for cmpp-account.
        expect(decodeFrame((await c.login('900001', 3, 20)).bytes)).toMatchObject({ status: 0 });
        expect(connects('900001')).toBe(3);
      } finally {
        c.close();
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('an account of its own: its override in place of the backend cap (0 refuses every login)', async () => {
    const first = await Sp.connect(capPort);
    try {
      expect(decodeFrame((await first.login('900002')).bytes)).toMatchObject({ status: 0 });
      expect(decodeFrame((await refusedLogin(capPort, '900002', '3.0')).bytes)).toMatchObject({ status: 5 });
      expect(decodeFrame((await refusedLogin(capPort, '900003', '3.0')).bytes)).toMatchObject({ status: 5 });
      expect(connects('900002')).toBe(1);
      expect(connects('900003')).toBe(0);
      expect(await accountRow('900002')).toMatchObject({ refusedCap: 1 });
      expect(await accountRow('900003')).toMatchObject({ refusedCap: 1 });
    } finally {
      first.close();
    }
  });

  it('a refused client that keeps its side open is cut after the linger (REFUSAL_LINGER_MS, by the idle sweep)', async () => {
    // The previous test's session of 900002 is gone (its slot freed) before this one takes the only slot.
    await waitFor(async () =>
      ((await app.request.get('/api/v1/sessions').expect(200)).body as Array<{ account?: string }>).every(
        (s) => s.account !== '900002',
      ),
    );
    const holder = await Sp.connect(capPort);
    expect(decodeFrame((await holder.login('900002')).bytes)).toMatchObject({ status: 0 });
    const socket = net.connect({ host: '127.0.0.1', port: capPort, allowHalfOpen: true });
    try {
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
      socket.write(
        encodeConnect({
          sequenceId: 1,
          account: '900002',
          secret: 's',
          timestamp: 1205143000,
          version: '3.0',
        }),
      );
      await ended;
      expect(decodeFrame(Buffer.concat(received))).toMatchObject({ command: 'CONNECT_RESP', status: 5 });
      const port = socket.localPort;
      const listed = async () =>
        ((await app.request.get('/api/v1/sessions').expect(200)).body as Array<{ clientPort: number }>).some(
          (s) => s.clientPort === port,
        );
      // Tether has answered and sent its FIN; the client hasn't closed: the session waits for it ...
      expect(await listed()).toBe(true);
      // ... at most the linger (2 s) and one sweep (1 s), with a margin for a loaded machine.
      await waitFor(async () => !(await listed()), 8000, 'the lingering refused session to be cut');
    } finally {
      socket.destroy();
      holder.close();
    }
  });

  it('a session on a capped backend must start with a CONNECT: anything else is closed before a server is chosen', async () => {
    // Not counting TERMINATEs: earlier tests' clients that left without one make Tether send its own (dead legs).
    const seen = () => gateway.received.filter((f) => f.commandId !== CommandId.TERMINATE).length;
    const before = seen();
    const socket = net.connect({ host: '127.0.0.1', port: capPort });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect((await closed(socket)).length).toBe(0);
    expect(seen()).toBe(before);
  });
});

it('the HAProxy export says the limits have no equivalent there', async () => {
  const cfg = (await app.request.get('/api/v1/export/haproxy.cfg').expect(200)).text;
  const capped = cfg.slice(cfg.indexOf('backend capped'));
  expect(capped).toMatch(/^ {4}# cmpp limits .* have no$/m);
  expect(cfg.slice(0, cfg.indexOf('backend capped'))).not.toContain('# cmpp limits');
});

describe('login rate limits', () => {
  it('answers logins over the per-source rate with status 5 after the delay; other sources still log in', async () => {
    const kept: Sp[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const sp = await Sp.connect(ratePort, '127.0.0.21');
        kept.push(sp);
        expect(decodeFrame((await sp.login('900011')).bytes)).toMatchObject({ status: 0 });
      }
      const refused = await refusedLogin(ratePort, '900011', '3.0', '127.0.0.21');
      expect(decodeFrame(refused.bytes)).toMatchObject({
        command: 'CONNECT_RESP',
        status: 5,
        sequenceId: 4242,
      });
      // RATE_REFUSAL_DELAY_MS is 1000; timers may fire a little early on a loaded machine, never much.
      expect(refused.ms).toBeGreaterThanOrEqual(900);
      // The per-account bucket (3 a minute) still has a token: another source gets the third login.
      const other = await Sp.connect(ratePort, '127.0.0.22');
      kept.push(other);
      expect(decodeFrame((await other.login('900011')).bytes)).toMatchObject({ status: 0 });
      // ... and the fourth is over the per-account rate, whatever the source.
      const overAccount = await refusedLogin(ratePort, '900011', '2.0', '127.0.0.23');
      expect(decodeFrame(overAccount.bytes, 0, '2.0')).toMatchObject({ status: 5 });
      expect(overAccount.ms).toBeGreaterThanOrEqual(900);
      expect(connects('900011')).toBe(3);
      expect(await accountRow('900011')).toMatchObject({ refusedRate: 2, refusedCap: 0 });
      const metrics = (await app.request.get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/tether_cmpp_account_refused_logins_total\{account="900011",reason="rate"\} 2/);
    } finally {
      for (const sp of kept) sp.close();
    }
  });
});

describe('bad input', () => {
  it('names every offending field and changes nothing', async () => {
    const before = (await app.request.get('/api/v1/config').expect(200)).body;
    const bad = await app.request.post('/api/v1/backends').send(
      backendBody('bad', [], {
        cmpp: {
          maxConnectionsPerAccount: 0,
          loginRate: { perSource: { logins: 0, per: '10ms' } },
          accounts: [{ account: '1234567', maxConnections: -1 }, { account: '900001' }],
        },
      }),
    );
    expectError(bad, 400);
    const fields = (bad.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(
      [
        // Its length in bytes is the document check's, named all the same (validators.ts, bytesLengthProblems).
        'cmpp.accounts[0].account',
        'cmpp.accounts[0].maxConnections',
        'cmpp.loginRate.perSource.logins',
        'cmpp.loginRate.perSource.per',
        'cmpp.maxConnectionsPerAccount',
      ].sort(),
    );
    // What only the document check sees (an account counted in bytes, an override that overrides nothing).
    const entries = await app.request.post('/api/v1/backends').send(
      backendBody('bad', [], {
        cmpp: { accounts: [{ account: '1234567', maxConnections: 1 }, { account: '900001' }] },
      }),
    );
    expectError(entries, 400);
    expect((entries.body.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual([
      'cmpp.accounts[0].account',
      'cmpp.accounts[1]',
    ]);

    const twice = await app.request.post('/api/v1/backends').send(
      backendBody('twice', [], {
        cmpp: {
          accounts: [
            { account: '900001', maxConnections: 1 },
            { account: '900001', maxConnections: 2 },
          ],
        },
      }),
    );
    expectError(twice, 409);
    expect((twice.body.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual([
      'cmpp.accounts[0].account',
      'cmpp.accounts[1].account',
    ]);

    const many = await app.request.post('/api/v1/backends').send(
      backendBody('many', [], {
        cmpp: {
          accounts: Array.from({ length: 1001 }, (_, i) => ({
            account: String(100000 + i),
            maxConnections: 1,
          })),
        },
      }),
    );
    expectError(many, 413, 'cmpp.accounts');

    expect((await app.request.get('/api/v1/config').expect(200)).body).toEqual(before);
  });

  it('refuses limits on a backend a frontend reaches without inspecting (they would do nothing there): 422 naming the field', async () => {
    const plainPort = await freePort();
    await app.request
      .post('/api/v1/backends')
      .send(backendBody('plain', [serverBody('gw1', gateway.port)]))
      .expect(201);
    await app.request
      .post('/api/v1/frontends')
      .send(frontendBody('plain', plainPort, 'plain'))
      .expect(201);
    const capOnPlain = await app.request
      .patch('/api/v1/backends/plain')
      .send({ cmpp: { maxConnectionsPerAccount: 5 } });
    expectError(capOnPlain, 422, 'cmpp');
    expect(capOnPlain.body.code).toBe('NOT_IMPLEMENTED');
    expect(capOnPlain.body.message).toContain('inspect: cmpp');

    // The other end: a frontend that doesn't inspect, on a backend with limits.
    const uninspected = await app.request
      .post('/api/v1/frontends')
      .send(frontendBody('uninspected', await freePort(), 'capped'));
    expectError(uninspected, 422, 'inspect');
    const stopInspecting = await app.request.patch('/api/v1/frontends/caps').send({ inspect: 'none' });
    expectError(stopInspecting, 422, 'inspect');

    // The whole document says the same, at both ends.
    const config = (await app.request.get('/api/v1/config').expect(200)).body;
    const doc = structuredClone(config) as {
      revision?: number;
      frontends: Array<{ name: string; inspect?: string }>;
      backends: Array<{ name: string; cmpp?: object }>;
    };
    delete doc.revision;
    doc.backends.find((b) => b.name === 'plain')!.cmpp = { maxConnectionsPerAccount: 5 };
    const whole = await app.request.put('/api/v1/config').send(doc);
    expectError(whole, 422);
    const fi = doc.frontends.findIndex((f) => f.name === 'plain');
    const bi = doc.backends.findIndex((b) => b.name === 'plain');
    expect((whole.body.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual(
      [`backends[${bi}].cmpp`, `frontends[${fi}].inspect`].sort(),
    );
    expect((await app.request.get('/api/v1/config').expect(200)).body).toEqual(config);

    // Once the frontend inspects, the same limits are taken.
    await app.request.patch('/api/v1/frontends/plain').send({ inspect: 'cmpp' }).expect(200);
    const taken = await app.request
      .patch('/api/v1/backends/plain')
      .send({ cmpp: { maxConnectionsPerAccount: 5 } });
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    expect(taken.body.cmpp).toEqual({ maxConnectionsPerAccount: 5 });
    const removed = await app.request.patch('/api/v1/backends/plain').send({ cmpp: null });
    expect(removed.status).toBe(200);
    expect(removed.body.cmpp).toBeUndefined();
  });
});
