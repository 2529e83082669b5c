// CMPP inspection in the relay (issue 11 point 3): real CMPP traffic between a small SP and gateway through
// the runtime, with the counts checked exactly per frontend, server and account.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { LATENCY_BOUNDS_MS } from '../../src/runtime/cmpp-stats.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { CmppCommandCounts, CmppStats } from '../../src/runtime/types.js';
import { cmppGateway, Sp } from '../helpers/cmpp-peers.js';
import {
  backend,
  connect,
  echo,
  freePort,
  frontend,
  listen,
  readBytes,
  server,
  sleep,
  snapshot,
  waitFor,
} from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ZERO: CmppCommandCounts = {
  connect: 0,
  connectResp: 0,
  submit: 0,
  submitResp: 0,
  deliver: 0,
  deliverResp: 0,
  activeTest: 0,
  activeTestResp: 0,
  terminate: 0,
  terminateResp: 0,
  other: 0,
};

async function runtimeFor(inspect: 'cmpp' | 'none', serverPort: number) {
  const port = await freePort();
  const rt = new ProxyRuntime();
  cleanups.push(() => rt.close());
  await rt.apply(
    snapshot([frontend('sms', port, 'gw', { inspect })], [backend('gw', [server('gw1', serverPort)])]),
  );
  return { rt, port };
}

describe('inspect: cmpp', () => {
  it('counts commands each way, SUBMIT results, login statuses, latency and outstanding requests', async () => {
    const gateway = await cmppGateway({
      loginStatus: (account) => (account === '900002' ? 3 : 0),
      // 5, 10, 15, 20 throttled; 7 and 14 a field error; the rest accepted.
      submitResult: (seq) => (seq % 5 === 0 ? 8 : seq % 7 === 0 ? 13 : 0),
      activeTestAfterLogin: true,
    });
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor('cmpp', gateway.port);

    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    expect((await sp.login('900001')).commandId).toBe(CommandId.CONNECT_RESP);
    expect((await sp.next(1))[0].commandId).toBe(CommandId.ACTIVE_TEST);
    await waitFor(() => gateway.received.some((f) => f.commandId === CommandId.ACTIVE_TEST_RESP));

    // 21 SUBMITs in one write, sequence id 7 twice (ids may repeat while in flight), answers held back.
    gateway.hold = true;
    const seqs = [...Array.from({ length: 20 }, (_, i) => i + 1), 7];
    sp.socket.write(Buffer.concat(seqs.map((seq) => sp.submit(seq, '900001'))));
    await waitFor(() => gateway.received.filter((f) => f.commandId === CommandId.SUBMIT).length === 21);
    const [live] = await rt.sessions();
    expect(live).toMatchObject({ account: '900001', cmppVersion: '3.0', outstanding: { up: 21, down: 0 } });
    const during = (await rt.stats()).frontends[0].cmpp!;
    expect(during.outstanding).toEqual({ up: 21, down: 0 });
    // Counts of a live session are current in every stats read (sessions keep their own until then).
    expect(during.up.submit).toBe(21);
    expect((await rt.stats()).cmppAccounts![0].up.submit).toBe(21);
    await sleep(80);
    gateway.release();
    const answers = await sp.next(21);
    expect(answers.every((f) => f.commandId === CommandId.SUBMIT_RESP)).toBe(true);
    expect((await sp.terminate(99)).commandId).toBe(CommandId.TERMINATE_RESP);

    const refused = await Sp.connect(port);
    cleanups.push(() => refused.close());
    await refused.login('900002');
    refused.close();
    sp.close();
    await waitFor(async () => (await rt.sessions()).length === 0);

    const stats = await rt.stats();
    const expected = {
      notCmpp: 0,
      up: { ...ZERO, connect: 2, submit: 21, activeTestResp: 1, terminate: 1 },
      down: { ...ZERO, connectResp: 2, submitResp: 21, activeTest: 1, terminateResp: 1 },
      submitResults: { ok: 14, throttled: 4, other: 3 },
      connectStatus: { '0': 1, '3': 1 },
      outstanding: { up: 0, down: 0 },
      untracked: 0,
    };
    const fe = stats.frontends[0].cmpp!;
    expect(fe).toMatchObject({ sessions: 2, ...expected });
    expect(stats.backends[0].servers[0].cmpp).toMatchObject({ sessions: 0, ...expected });
    expectLatency(fe, 21, 80);

    const accounts = stats.cmppAccounts!;
    expect(accounts.map((a) => a.account)).toEqual(['900001', '900002']);
    expect(accounts[0]).toMatchObject({
      version: '3.0',
      sessions: 1,
      up: { ...ZERO, connect: 1, submit: 21, activeTestResp: 1, terminate: 1 },
      down: { ...ZERO, connectResp: 1, submitResp: 21, activeTest: 1, terminateResp: 1 },
      submitResults: { ok: 14, throttled: 4, other: 3 },
      connectStatus: { '0': 1 },
    });
    expectLatency(accounts[0], 21, 80);
    expect(accounts[1]).toMatchObject({
      version: '3.0',
      up: { ...ZERO, connect: 1 },
      down: { ...ZERO, connectResp: 1 },
      connectStatus: { '3': 1 },
      submitResults: { ok: 0, throttled: 0, other: 0 },
    });
  });

  it('stops inspecting bytes that are not CMPP and passes them on untouched, counted', async () => {
    const upstream = await listen(echo);
    cleanups.push(() => upstream.close());
    const { rt, port } = await runtimeFor('cmpp', upstream.port);
    const client = await connect(port);
    cleanups.push(() => client.destroy());
    // "GET " read as a Total_Length is 1,195,725,856: not CMPP.
    const payload = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), randomBytes(200_000)]);
    client.write(payload);
    expect((await readBytes(client, payload.length)).equals(payload)).toBe(true);
    const [session] = await rt.sessions();
    expect(session.outstanding).toBeUndefined();
    const cmpp = (await rt.stats()).frontends[0].cmpp!;
    expect(cmpp).toMatchObject({ sessions: 1, notCmpp: 1, up: ZERO, down: ZERO });
  });

  it('counts nothing on a frontend that does not inspect', async () => {
    const gateway = await cmppGateway();
    cleanups.push(() => gateway.close());
    const { rt, port } = await runtimeFor('none', gateway.port);
    const sp = await Sp.connect(port);
    cleanups.push(() => sp.close());
    await sp.login('900001');
    const stats = await rt.stats();
    expect(stats.frontends[0].cmpp).toBeUndefined();
    expect(stats.backends[0].servers[0].cmpp).toBeUndefined();
    expect(stats.cmppAccounts).toBeUndefined();
    expect((await rt.sessions())[0].account).toBeUndefined();
  });
});

/** All `n` samples in the histogram, none in a bucket ending below `atLeastMs`; p50/p99 from those buckets. */
function expectLatency(cmpp: CmppStats, n: number, atLeastMs: number): void {
  const { counts, boundsMs, p50, p99 } = cmpp.latency;
  expect(boundsMs).toEqual([...LATENCY_BOUNDS_MS]);
  expect(counts).toHaveLength(LATENCY_BOUNDS_MS.length + 1);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
  counts.forEach((count, i) => {
    if (i < boundsMs.length && boundsMs[i] < atLeastMs) expect(count).toBe(0);
  });
  expect(p50).toBeGreaterThanOrEqual(atLeastMs);
  expect(p99).toBeGreaterThanOrEqual(p50);
}
