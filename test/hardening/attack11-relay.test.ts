// Issue 11, attacked from outside (session 7): a hostile SP client on an `inspect: cmpp` frontend and on a
// `balance: cmpp-account` frontend of the real app, real loopback sockets. Whatever the client sends (lengths 0, 11,
// 12, 4096, 4097, 2^31, a CONNECT cut in its Source_Addr, accounts with NUL, UTF-8, control bytes, HTML and
// Prometheus-label-breaking characters, answers sent by the client, repeated ids, 10,000 unanswered requests, CMPP
// then garbage), every byte passes both ways untouched (sha256 of both streams), the appliance stays up, and what
// /stats and /metrics show of it stays well formed.
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import {
  encodeActiveTest,
  encodeConnect,
  encodeConnectResp,
  encodeSubmit,
  encodeSubmitResp,
} from '../../src/cmpp/codec.js';
import { type StartedApp, startApp } from '../helpers/app.js';
import { connect, freePort, listen, sleep, type TestServer, waitFor } from '../helpers/net.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

/** What the upstream got on each connection (in accept order) and what it sent back. */
interface Upstream extends TestServer {
  received: Buffer[][];
  sent: Buffer[][];
}

let app: StartedApp;
let upstream: Upstream;
/** inspect: cmpp, roundrobin. */
let inspectPort: number;
/** balance: cmpp-account, inspect none. */
let stickyPort: number;
/** What the upstream sends first: 100 ACTIVE_TESTs (gateways may send them before any login), valid CMPP. */
const OPENING = Buffer.concat(Array.from({ length: 100 }, (_, i) => encodeActiveTest(i)));

async function setUp(workers: string): Promise<void> {
  const received: Buffer[][] = [];
  const sent: Buffer[][] = [];
  const server = await listen((socket: Socket) => {
    const got: Buffer[] = [];
    const out: Buffer[] = [OPENING];
    received.push(got);
    sent.push(out);
    socket.write(OPENING);
    socket.on('data', (chunk: Buffer) => {
      got.push(chunk);
      // A read starting with a whole CONNECT is let in (status 0), as a gateway would, then echoed as the rest.
      if (chunk.length >= 39 && chunk.readUInt32BE(0) === 39 && chunk.readUInt32BE(4) === CommandId.CONNECT) {
        const answer = encodeConnectResp({ sequenceId: chunk.readUInt32BE(8), status: 0, version: '3.0' });
        out.push(answer);
        socket.write(answer);
      }
      out.push(Buffer.from(chunk));
      socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  upstream = Object.assign(server, { received, sent });
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
  inspectPort = await freePort();
  stickyPort = await freePort();
  await app.request
    .post('/api/v1/backends')
    .send(backendBody('echo', [serverBody('e1', upstream.port)]))
    .expect(201);
  await app.request
    .post('/api/v1/backends')
    .send(backendBody('sticky', [serverBody('s1', upstream.port)], { balance: 'cmpp-account' }))
    .expect(201);
  await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('inspected', inspectPort, 'echo', { inspect: 'cmpp' }))
    .expect(201);
  await app.request
    .post('/api/v1/frontends')
    .send(frontendBody('sticky', stickyPort, 'sticky'))
    .expect(201);
}

async function tearDown(): Promise<void> {
  await app?.close();
  await upstream?.close();
}

const sha = (parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');

function header(totalLength: number, commandId: number, sequenceId: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(totalLength >>> 0, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(sequenceId >>> 0, 8);
  return b;
}

/** A CONNECT whose Source_Addr is exactly these bytes (NUL padded to 6). */
function submitFrame(sequenceId: number, account: string): Buffer {
  return encodeSubmit({
    sequenceId,
    version: '3.0',
    account,
    srcId: '1065',
    recipients: ['13800000000'],
    content: Buffer.from('hi'),
  });
}

function connectWithRawAccount(account: Buffer, sequenceId = 1): Buffer {
  const frame = encodeConnect({
    sequenceId,
    account: '',
    secret: 'x',
    timestamp: 1205143000,
    version: '3.0',
  });
  account.copy(frame, 12, 0, 6);
  return frame;
}

let nextSource = 0;

/**
 * One client session on `port`: `writes` sent one by one (`gapMs` apart, so most are reads of their own), then
 * (`settle`: once both streams are across) end. Both byte streams must arrive exactly; resolves when the proxy closed
 * the client's side.
 */
async function session(port: number, writes: Buffer[], gapMs = 5, settle = true): Promise<void> {
  const index = upstream.received.length;
  const client = await connect(port, { localAddress: `127.0.0.${40 + (nextSource++ % 200)}` });
  client.setNoDelay(true);
  const arrived: Buffer[] = [];
  client.on('data', (chunk: Buffer) => arrived.push(chunk));
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  for (const w of writes) {
    if (!client.write(w)) await new Promise((resolve) => client.once('drain', resolve));
    if (gapMs > 0) await sleep(gapMs);
  }
  const sentByClient = Buffer.concat(writes);
  // Everything across both ways before the client ends: a logged-in client's end makes Tether close the CMPP way
  // (below), and what the server sends after that is not the client's any more.
  const total = (parts: Buffer[] | undefined) => (parts ?? []).reduce((n, b) => n + b.length, 0);
  if (settle)
    await waitFor(
      () =>
        total(upstream.received[index]) === sentByClient.length &&
        total(arrived) === total(upstream.sent[index]),
      5000,
      'both streams across',
    );
  client.end();
  await ended;
  expect(upstream.received.length).toBeGreaterThan(index);
  // A client logged in (the upstream let it in) that leaves without TERMINATE: Tether sends the server one and answers
  // the server's (docs/cmpp-session-control.md). Those whole frames aside, every byte as sent, both ways.
  const received = Buffer.concat(upstream.received[index]);
  expect(sha([received.subarray(0, sentByClient.length)])).toBe(sha([sentByClient]));
  expect(
    onlyTerminates(received.subarray(sentByClient.length)),
    received.subarray(sentByClient.length).toString('hex'),
  ).toBe(true);
  const sent = Buffer.concat(upstream.sent[index]);
  const got = Buffer.concat(arrived);
  expect(sha([got])).toBe(sha([sent.subarray(0, got.length)]));
  expect(onlyTerminates(sent.subarray(got.length)), sent.subarray(got.length).toString('hex')).toBe(true);
  client.destroy();
}

/** `bytes` is whole TERMINATE and TERMINATE_RESP frames (or nothing). */
function onlyTerminates(bytes: Buffer): boolean {
  for (let at = 0; at < bytes.length; at += 12) {
    if (bytes.length - at < 12 || bytes.readUInt32BE(at) !== 12) return false;
    const command = bytes.readUInt32BE(at + 4);
    if (command !== CommandId.TERMINATE && command !== CommandId.TERMINATE_RESP) return false;
  }
  return true;
}

interface FrontendCmpp {
  notCmpp: number;
  untracked: number;
  up: Record<string, number>;
  outstanding: { up: number; down: number };
}

async function frontendCmpp(): Promise<FrontendCmpp> {
  const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
  // Absent until the frontend inspected something.
  return (
    stats.frontends.find((f: { name: string }) => f.name === 'inspected').cmpp ?? {
      notCmpp: 0,
      untracked: 0,
      up: { submit: 0, submitResp: 0 },
      outstanding: { up: 0, down: 0 },
    }
  );
}

/** The appliance answers, and no worker process died (a throw in a worker's relay ends the worker). */
async function healthy(): Promise<void> {
  await app.anonymous.get('/healthz').expect(200);
  const workers = (await app.request.get('/api/v1/stats').expect(200)).body.workers as
    Array<{ restarts: number }> | undefined;
  for (const w of workers ?? []) expect(w.restarts).toBe(0);
}

// In one process, and in worker processes (where a throw would end a worker, not the test's process).
describe.each(['0', '2'])('TETHER_WORKERS=%s', (workers) => {
  beforeAll(() => setUp(workers), 60_000);
  afterAll(() => tearDown());

  describe.each([
    ['inspect: cmpp', () => inspectPort],
    ['balance: cmpp-account', () => stickyPort],
  ])('%s', (_name, port) => {
    it('Total_Length 0, 11, 12, 4096, 4097 and 2^31 as the first header, then random bytes: relayed untouched', async () => {
      for (const length of [0, 11, 12, 4096, 4097, 2 ** 31, 2 ** 32 - 1])
        await session(port(), [header(length, CommandId.CONNECT, 1), randomBytes(700)]);
      await healthy();
    });

    it('a valid CONNECT and SUBMIT sent one byte per write: relayed untouched', async () => {
      const stream = Buffer.concat([
        connectWithRawAccount(Buffer.from('900001')),
        encodeSubmit({
          sequenceId: 2,
          version: '3.0',
          account: '900001',
          srcId: '1065',
          recipients: ['13800000000'],
          content: Buffer.from('hi'),
        }),
      ]);
      await session(
        port(),
        Array.from(stream, (b) => Buffer.of(b)),
        1,
      );
    });

    it('a CONNECT cut in the middle of Source_Addr, then the client closes: relayed, the proxy stays up', async () => {
      const connectFrame = connectWithRawAccount(Buffer.from('900002'));
      for (const cut of [13, 14, 15, 17]) {
        const started = performance.now();
        // Ends at once (cmpp-account holds a first frame that is not whole until it is, or until the client ends).
        await session(port(), [connectFrame.subarray(0, cut)], 5, false);
        // Nothing more can come: the bytes go on at once, not after cmpp-account's 2 s wait for the first frame.
        expect(performance.now() - started).toBeLessThan(1500);
      }
      await healthy();
    });

    it('part of a frame is never held back: 7 bytes of a header, then 100 of a SUBMIT, each reach the server at once', async () => {
      const index = upstream.received.length;
      const client = await connect(port(), { localAddress: `127.0.0.${40 + (nextSource++ % 200)}` });
      client.setNoDelay(true);
      const submit = submitFrame(2, '900005');
      const upTo = (n: number) =>
        waitFor(() => Buffer.concat(upstream.received[index] ?? []).length === n, 1500);
      try {
        client.write(connectWithRawAccount(Buffer.from('900005')));
        await upTo(39);
        client.write(submit.subarray(0, 7));
        await upTo(39 + 7);
        client.write(submit.subarray(7, 107));
        await upTo(39 + 107);
      } finally {
        client.destroy();
      }
    });

    it('CMPP then garbage in the same session: relayed untouched', async () => {
      await session(port(), [
        connectWithRawAccount(Buffer.from('900003')),
        header(5, 1, 1),
        randomBytes(3000),
      ]);
    });
  });

  describe('inspect: cmpp', () => {
    /** The accounts a hostile client can name: NUL inside, UTF-8 (whole and cut), control bytes, HTML, `"`, `\`, newline. */
    const HOSTILE = [
      Buffer.from('a\u0000b'),
      Buffer.from('中文'),
      Buffer.from([0xe4, 0xb8, 0x41, 0x42, 0x43, 0x44]),
      Buffer.from('\u001b[2J\r\n'),
      Buffer.from('<img/>'),
      Buffer.from('"}\\\n# '),
      Buffer.from('a"b\\c\n'),
    ];
    const asRead = (b: Buffer) => {
      let end = 6;
      while (end > 0 && (b[end - 1] ?? 0) === 0) end--;
      return b.toString('latin1', 0, Math.min(end, b.length));
    };

    it('hostile Source_Addr bytes: relayed untouched, listed as read in /stats, /metrics stays parseable', async () => {
      // Each is let in by the upstream, so each has series of its own in /metrics (accounts a gateway let in).
      for (const account of HOSTILE) await session(inspectPort, [connectWithRawAccount(account)]);
      const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
      const names = (stats.cmppAccounts as Array<{ account: string }>).map((a) => a.account);
      for (const account of HOSTILE) expect(names).toContain(asRead(account));
      const metrics = (await app.request.get('/metrics').expect(200)).text;
      // The Prometheus text format: a label value is a string with \\, \" and \n escaped, nothing else breaks a line.
      const sample =
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? [-+0-9.eInfNa]+$/;
      const bad = metrics
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#') && !sample.test(line));
      expect(bad).toEqual([]);
      const accountLines = metrics
        .split('\n')
        .filter((l) => l.startsWith('tether_cmpp_account_sessions_total'));
      const letIn = (
        stats.cmppAccounts as Array<{ connectStatus: Record<string, number>; up: { connectResp: number } }>
      ).filter((a) => (a.connectStatus['0'] ?? 0) > 0 && a.up.connectResp === 0);
      expect(accountLines.length).toBe(letIn.length);
      // Each hostile name once, escaped: `\` `"` and newline as \\ \" \n, the rest as read.
      for (const account of HOSTILE) {
        const label = asRead(account).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
        expect(
          accountLines.filter((l) => l.startsWith(`tether_cmpp_account_sessions_total{account="${label}"}`)),
        ).toHaveLength(1);
      }
    });

    it('answers sent by the client, ids repeating, 10,000 unanswered requests: relayed, outstanding bounded', async () => {
      const resp = (seq: number) =>
        encodeSubmitResp({ sequenceId: seq, msgId: randomBytes(8), result: 0, version: '3.0' });
      const submit = (seq: number) =>
        encodeSubmit({
          sequenceId: seq,
          version: '3.0',
          account: '900004',
          srcId: '1065',
          recipients: ['13800000000'],
          content: Buffer.from('x'),
        });
      const writes: Buffer[] = [connectWithRawAccount(Buffer.from('900004'))];
      writes.push(Buffer.concat(Array.from({ length: 200 }, (_, i) => resp(i))));
      writes.push(Buffer.concat(Array.from({ length: 200 }, () => submit(7))));
      // 10,000 distinct unanswered requests (the echo sends them back: the client's requests come down as "server
      // requests" too), in writes of 500.
      for (let k = 0; k < 20; k++)
        writes.push(Buffer.concat(Array.from({ length: 500 }, (_, i) => submit(1000 + k * 500 + i))));
      const before = await frontendCmpp();
      await session(inspectPort, writes, 0);
      const stats = (await app.request.get('/api/v1/stats').expect(200)).body;
      const row = (stats.cmppAccounts as Array<{ account: string; untracked?: number }>).find(
        (a) => a.account === '900004',
      );
      expect(row).toBeDefined();
      const frontend = await frontendCmpp();
      expect(frontend.notCmpp - before.notCmpp).toBe(0);
      // Both ways (the echo sends the client's requests back as the server's): all but 48 of each untracked.
      expect(frontend.untracked - before.untracked).toBeGreaterThan(2 * 9900);
      expect(frontend.up.submit - before.up.submit).toBe(10_200);
      expect(frontend.up.submitResp - before.up.submitResp).toBe(200);
      // The session ended: nothing of it is outstanding any more.
      expect(frontend.outstanding).toEqual({ up: 0, down: 0 });
      await healthy();
    });
  });
});
