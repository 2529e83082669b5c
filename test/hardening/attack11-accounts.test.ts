// Issue 11, attacked from outside (session 7): the per-account table (at most 10,000 rows and `*other*`) against a
// client naming 10,050 accounts in one connection, through the real app and a CMPP gateway that refuses them
// (status 2). The accounts that log in, before and after the flood, keep rows of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { encodeConnect, encodeConnectResp, encodeSubmit, encodeSubmitResp } from '../../src/cmpp/codec.js';
import { ACCOUNTS_LIMIT, OVERFLOW_ACCOUNT } from '../../src/runtime/cmpp-stats.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { cmppGateway, type Gateway, readFrames, Sp } from '../helpers/cmpp-peers.js';
import { connect, freePort, listen, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

/** A real account whose name breaks HTML and Prometheus labels (`"`, `\`, newline, `<`): 5 bytes. */
const ODD = 'a"\\\n<';
const REAL = new Set(['900001', '900002', ODD]);

interface Row {
  account: string;
  up: { submit: number };
  connectStatus: Record<string, number>;
}

// In one process, and with two worker processes (the flood and the real SPs may land in different workers: the
// merged table must keep the real accounts too).
describe.each(['0', '2'])('TETHER_WORKERS=%s', (workers) => {
  let app: StartedApp;
  let gateway: Gateway;
  let port: number;

  beforeAll(async () => {
    gateway = await cmppGateway({ loginStatus: (account) => (REAL.has(account) ? 0 : 2) });
    app = await startApp({ env: { TETHER_WORKERS: workers } });
    if (workers !== '0')
      await waitFor(
        async () =>
          (await app.request.get('/api/v1/stats')).body.workers?.every(
            (w: { state: string }) => w.state === 'running',
          ),
        30_000,
        'workers',
      );
    port = await freePort();
    await app.request
      .post('/api/v1/backends')
      .send(backendBody('gw', [serverBody('g1', gateway.port)]))
      .expect(201);
    await app.request
      .post('/api/v1/frontends')
      .send(frontendBody('sms', port, 'gw', { inspect: 'cmpp' }))
      .expect(201);
  });
  afterAll(async () => {
    await app?.close();
    await gateway?.close();
  });

  async function accountRows(): Promise<Row[]> {
    return (await app.request.get('/api/v1/stats').expect(200)).body.cmppAccounts as Row[];
  }

  /** Logs `account` in, sends `submits` SUBMITs and waits for their answers. */
  async function realSp(account: string, submits: number, source: string): Promise<void> {
    const sp = await Sp.connect(port, source);
    try {
      expect((await sp.login(account)).commandId).toBe(CommandId.CONNECT_RESP);
      sp.socket.write(Buffer.concat(Array.from({ length: submits }, (_, i) => sp.submit(i + 2, account))));
      await sp.next(submits);
    } finally {
      sp.close();
    }
  }

  it('10,050 accounts named by one client, each vouched for by the client, leave the accounts a gateway let in their rows', async () => {
    await realSp('900002', 2, '127.0.0.11');
    const flood = 10_050;
    const client = await connect(port, { localAddress: '127.0.0.12' });
    let answers = 0;
    readFrames(client, () => answers++);
    // Each name vouched for by the client itself: a CONNECT_RESP status 0 it sends (the inspection counts a status
    // whichever way it goes) and a SUBMIT. Neither is a gateway letting the account in.
    const forged = encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0' });
    client.write(
      Buffer.concat(
        Array.from({ length: flood }, (_, i) => {
          const account = String(100_000 + i);
          return Buffer.concat([
            encodeConnect({ sequenceId: i, account, secret: 's', timestamp: 1205143000, version: '3.0' }),
            forged,
            encodeSubmit({
              sequenceId: i,
              version: '3.0',
              account,
              srcId: '1065',
              recipients: ['13800000000'],
              content: Buffer.from('x'),
            }),
          ]);
        }),
      ),
    );
    // The test gateway answers each CONNECT (status 2) and each SUBMIT.
    await waitFor(() => answers === 2 * flood, 20_000, 'every CONNECT and SUBMIT answered');
    client.destroy();
    await realSp('900001', 3, '127.0.0.13');
    await realSp(ODD, 3, '127.0.0.14');

    const rows = await accountRows();
    expect(rows.length).toBeLessThanOrEqual(ACCOUNTS_LIMIT + 1);
    const row = (account: string) => rows.find((r) => r.account === account);
    expect(row('900002')).toMatchObject({ up: { submit: 2 }, connectStatus: { 0: 1 } });
    expect(row('900001')).toMatchObject({ up: { submit: 3 }, connectStatus: { 0: 1 } });
    // Nothing a real account did is lumped with the flood.
    expect(row(ODD)).toMatchObject({ up: { submit: 3 }, connectStatus: { 0: 1 } });
    // In one process the newest names of the flood are listed (the oldest gave up their rows); merged from
    // workers, names that never logged in fill what is left in account order.
    if (workers === '0') expect(row(String(100_000 + flood - 1))).toBeDefined();

    // /metrics: series of their own only for the accounts a gateway let in (the flood makes none), `*other*` aside.
    const metrics = (await app.request.get('/metrics').expect(200)).text;
    const labelled = new Set(
      [...metrics.matchAll(/^tether_cmpp_account_\w+\{account="((?:[^"\\\n]|\\.)*)"/gm)].map((m) => m[1]),
    );
    labelled.delete(OVERFLOW_ACCOUNT);
    // The odd name escaped as the text format wants: \" \\ \n.
    expect([...labelled].sort()).toEqual(['900001', '900002', 'a\\"\\\\\\n<']);
    expect(metrics).toContain('tether_cmpp_account_submits_total{account="a\\"\\\\\\n<"} 3');
    expect(metrics.length).toBeLessThan(200_000);

    // What the console reads every 5 s: the 50 busiest rows (the real accounts first), not ~8 MB.
    const busiest = await app.request.get('/api/v1/stats?accounts=50').expect(200);
    expect(busiest.text.length).toBeLessThan(200_000);
    expect(busiest.body.cmppAccountsTotal).toBe(rows.length);
    const shown = (busiest.body.cmppAccounts as Row[]).map((r) => r.account);
    expect(shown).toHaveLength(50);
    expect(shown).toEqual(expect.arrayContaining(['900001', '900002', ODD]));
    const named = shown.filter((a) => a !== OVERFLOW_ACCOUNT);
    expect(named).toEqual([...named].sort());
  }, 60_000);
});

describe('GET /stats?accounts=', () => {
  let t: StartedApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it.each(['0', '10002', 'abc', '1e3', '0x10', ''])(
    'refuses accounts=%s naming it, never a 5xx',
    async (value) => {
      const res = await t.request.get(`/api/v1/stats?accounts=${value}`);
      expect(res.status, res.text).toBe(400);
      expect(res.body.field).toBe('accounts');
    },
  );

  it('the busiest are those whose SUBMITs a gateway answered, not those sending the most', async () => {
    // A strict gateway: SUBMIT_RESP only on a connection it let in (900001); anyone else is refused (status 2).
    const strict = await listen((socket) =>
      readFrames(socket, (frame) => {
        if (frame.commandId === CommandId.CONNECT) {
          const account = frame.bytes.toString('latin1', 12, 18).replace(/\0+$/, '');
          const status = account === '900001' ? 0 : 2;
          if (status === 0) (socket as { letIn?: boolean }).letIn = true;
          socket.write(encodeConnectResp({ sequenceId: frame.sequenceId, status, version: '3.0' }));
        } else if (frame.commandId === CommandId.SUBMIT && (socket as { letIn?: boolean }).letIn)
          socket.write(
            encodeSubmitResp({
              sequenceId: frame.sequenceId,
              msgId: Buffer.alloc(8),
              result: 0,
              version: '3.0',
            }),
          );
      }),
    );
    const port = await freePort();
    try {
      await t.request
        .post('/api/v1/backends')
        .send(backendBody('strict', [serverBody('s1', strict.port)]))
        .expect(201);
      await t.request
        .post('/api/v1/frontends')
        .send(frontendBody('strict', port, 'strict', { inspect: 'cmpp' }))
        .expect(201);
      const sp = await Sp.connect(port, '127.0.0.31');
      expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
      sp.socket.write(sp.submit(2, '900001'));
      await sp.next(1);
      sp.close();
      // Three clients naming accounts no gateway lets in, each sending 20 SUBMITs (unanswered).
      for (let i = 0; i < 3; i++) {
        const other = await Sp.connect(port, `127.0.0.${32 + i}`);
        const account = `80000${i}`;
        await other.login(account);
        other.socket.write(Buffer.concat(Array.from({ length: 20 }, (_, k) => other.submit(k + 2, account))));
        await waitFor(async () => {
          const rows = (await t.request.get('/api/v1/stats').expect(200)).body.cmppAccounts as Row[];
          return rows.find((r) => r.account === account)?.up.submit === 20;
        });
        other.close();
      }
      const busiest = (await t.request.get('/api/v1/stats?accounts=1').expect(200)).body;
      expect(busiest.cmppAccountsTotal).toBe(4);
      expect((busiest.cmppAccounts as Row[]).map((r) => r.account)).toEqual(['900001']);
    } finally {
      await strict.close();
    }
  });

  it('refuses it given twice; takes it from a viewer', async () => {
    expect((await t.request.get('/api/v1/stats?accounts=1&accounts=2')).status).toBe(400);
    const viewer = await t.as('viewer');
    const res = await viewer.get('/api/v1/stats?accounts=5').expect(200);
    expect(res.body.cmppAccounts).toHaveLength(4);
    expect(res.body.cmppAccountsTotal).toBe(4);
  });
});
