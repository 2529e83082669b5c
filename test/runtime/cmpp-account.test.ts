// Account stickiness that holds (issue 11 point 4): cmpp-account hashes the SP account of the CONNECT even
// when it arrives split over several reads, keeps hashing by account on the retry after a failed connect,
// and the impact report predicts moves by account.
import { afterEach, describe, expect, it } from 'vitest';
import type { BalancedServer } from '../../src/runtime/balancers/balancer.js';
import { createBalancer } from '../../src/runtime/balancers/registry.js';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { connectFrame } from '../helpers/cmpp-peers.js';
import {
  backend,
  connect,
  freePort,
  frontend,
  listen,
  named,
  readBytes,
  server,
  sleep,
  snapshot,
  type TestServer,
  waitFor,
} from '../helpers/net.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const NAMES = ['s1', 's2', 's3'];
const SOURCES = ['127.0.6.1', '127.0.6.2', '127.0.6.3', '127.0.6.4', '127.0.6.5', '127.0.6.6'];

/** The runtime's own choice among `names` for a client, from the same balancer over all three servers. */
function choice(names: string[], context: { clientAddress: string; account?: string }): string {
  const all = NAMES.map((name, index) => ({ name, weight: 1, index }));
  const balancer = createBalancer('cmpp-account', { hashType: 'consistent', servers: all });
  const candidates: BalancedServer[] = all
    .filter((s) => names.includes(s.name))
    .map((s) => ({ ...s, sessions: 0 }));
  return balancer.elect(candidates, context)!.name;
}

async function setup(dead?: string): Promise<{ rt: ProxyRuntime; port: number; config: Snapshot }> {
  const targets: Array<TestServer | null> = [];
  for (const name of NAMES) {
    if (name === dead) targets.push(null);
    else {
      const target = await listen(named(name));
      cleanups.push(() => target.close());
      targets.push(target);
    }
  }
  const port = await freePort();
  const rt = new ProxyRuntime();
  cleanups.push(() => rt.close());
  const config = snapshot(
    [frontend('fe', port, 'be')],
    [
      backend(
        'be',
        await Promise.all(NAMES.map(async (name, i) => server(name, targets[i]?.port ?? (await freePort())))),
        { balance: 'cmpp-account' },
      ),
    ],
  );
  await rt.apply(config);
  return { rt, port, config };
}

/** Connects from `source`, sends the CONNECT in `pieces` reads; returns the server's name line. */
async function landOn(port: number, source: string, account: string, pieces: number): Promise<string> {
  const c = await connect(port, { localAddress: source });
  cleanups.push(() => c.destroy());
  const frame = connectFrame(account);
  const size = Math.ceil(frame.length / pieces);
  for (let at = 0; at < frame.length; at += size) {
    c.write(frame.subarray(at, at + size));
    // Long enough for each piece to be its own read at the relay.
    if (at + size < frame.length) await sleep(30);
  }
  const got = await readBytes(c, 3 + frame.length);
  // The CONNECT arrived whole and in order after the name line.
  expect(got.subarray(3).equals(frame)).toBe(true);
  return got.subarray(0, 2).toString();
}

describe('cmpp-account', () => {
  it('hashes the account of a CONNECT split over several reads, whatever the source address', async () => {
    const account = '900123';
    // Meaningful only if the client IP would have picked another server for some of these sources.
    expect(
      SOURCES.some(
        (s) => choice(NAMES, { clientAddress: s }) !== choice(NAMES, { clientAddress: s, account }),
      ),
    ).toBe(true);
    const { rt, port } = await setup();
    for (const source of SOURCES)
      expect(await landOn(port, source, account, 3)).toBe(choice(NAMES, { clientAddress: source, account }));
    const sessions = await rt.sessions();
    expect(sessions.map((s) => s.account)).toEqual(SOURCES.map(() => account));
  });

  it('keeps hashing by account on the retry after a failed connect', async () => {
    // An account whose server is down (nothing listens on its port; unchecked, so still elected).
    const account = ['900001', '900002', '900003', '900004', '900005', '900006', '900007', '900008'].find(
      (a) => choice(NAMES, { clientAddress: '', account: a }) === 's1',
    )!;
    expect(account).toBeDefined();
    const rest = ['s2', 's3'];
    const expected = choice(rest, { clientAddress: SOURCES[0], account });
    expect(SOURCES.some((s) => choice(rest, { clientAddress: s }) !== expected)).toBe(true);
    const { rt, port } = await setup('s1');
    for (const source of SOURCES) expect(await landOn(port, source, account, 1)).toBe(expected);
    const stats = await rt.stats();
    expect(stats.backends[0].servers[0]).toMatchObject({
      name: 's1',
      econ: SOURCES.length,
      wredis: SOURCES.length,
    });
  });

  it('predicts moves by account in the impact report, not by client address', async () => {
    const { rt, port, config } = await setup();
    const accounts = ['900011', '900022'];
    for (const account of accounts)
      for (const source of SOURCES.slice(0, 3)) await landOn(port, source, account, 1);
    await waitFor(async () => (await rt.sessions()).length === 6);
    // s3 leaves: exactly the accounts it carried move.
    const candidate = structuredClone(config);
    candidate.backends[0].servers.pop();
    const report = await rt.impact(candidate);
    const moved = accounts.filter((a) => choice(NAMES, { clientAddress: '', account: a }) === 's3').length;
    expect(report.rehashed).toEqual([{ backend: 'be', clients: 2, moved, share: moved / 2 }]);
  });
});
