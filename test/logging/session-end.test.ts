// Each ended session reports one record with HAProxy's tcplog fields and termination state (docs/session-logs.md):
// real sessions through a real runtime on loopback.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ProxyRuntime } from '../../src/runtime/runtime.js';
import type { SessionEndRecord } from '../../src/runtime/types.js';
import type { Backend, Snapshot } from '../../src/schema/snapshot.js';
import {
  backend,
  blackhole,
  closed,
  echo,
  freePort,
  frontend,
  readBytes,
  server,
  snapshot,
  waitFor,
} from '../helpers/net.js';
import { closeAfterEach } from '../helpers/teardown.js';

const { defer, runtime, start, client } = closeAfterEach();

function recording(rt: ProxyRuntime): SessionEndRecord[] {
  const records: SessionEndRecord[] = [];
  defer(rt.onSessionEnd((r) => records.push(r)));
  return records;
}

/** Frontend `fe` on a free port in front of `be`, through a runtime whose ended sessions are recorded. */
async function recordedProxy(
  be: Backend,
  defaults: Partial<Snapshot['defaults']> = {},
  options: Parameters<typeof runtime>[0] = {},
): Promise<{ port: number; rt: ProxyRuntime; records: SessionEndRecord[] }> {
  const port = await freePort();
  const rt = runtime(options);
  const records = recording(rt);
  await rt.apply(snapshot([frontend('fe', port, 'be')], [be], defaults));
  return { port, rt, records };
}

async function oneRecord(records: SessionEndRecord[]): Promise<SessionEndRecord> {
  await waitFor(() => records.length > 0, 3000, 'a session record');
  // Nothing else may follow for the same session.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(records).toHaveLength(1);
  return records[0];
}

async function relayed(c: Socket, text: string): Promise<void> {
  c.write(text);
  expect((await readBytes(c, text.length)).toString()).toBe(text);
}

describe('session end records', () => {
  it('a normal close: "--", the client address, Tw/Tc/Tt, bytes read and the counts as HAProxy 2.6 logs them', async () => {
    const s1 = await start(echo);
    const { port, records } = await recordedProxy(backend('be', [server('s1', s1.port)]));
    const before = Date.now();
    const c = await client(port);
    const clientPort = c.localPort;
    await relayed(c, 'hello tether');
    c.end();
    await closed(c);
    const r = await oneRecord(records);
    expect(r).toMatchObject({
      clientAddress: '127.0.0.1',
      clientPort,
      frontend: 'fe',
      backend: 'be',
      server: 's1',
      tw: 0,
      bytesRead: 12,
      bytesUploaded: 12,
      termination: '--',
      reason: '',
      actconn: 1,
      feconn: 1,
      beconn: 0,
      srvConn: 0,
      retries: 0,
      redispatched: false,
      srvQueue: 0,
      backendQueue: 0,
    });
    expect(r.acceptedAt).toBeGreaterThanOrEqual(before - 1);
    expect(r.tc).toBeGreaterThanOrEqual(0);
    expect(r.tt).toBeGreaterThanOrEqual(r.tc);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('a client that resets during data: "CD"', async () => {
    const s1 = await start(echo);
    const { port, records } = await recordedProxy(backend('be', [server('s1', s1.port)]));
    const c = await client(port);
    await relayed(c, 'abc');
    c.resetAndDestroy();
    expect((await oneRecord(records)).termination).toBe('CD');
  });

  it('a server that resets during data: "SD"', async () => {
    const s1 = await start(echo);
    const { port, records } = await recordedProxy(backend('be', [server('s1', s1.port)]));
    const c = await client(port);
    await relayed(c, 'abc');
    s1.accepted[0].resetAndDestroy();
    await closed(c).catch(() => {});
    const r = await oneRecord(records);
    expect(r.termination).toBe('SD');
    expect(r.bytesRead).toBe(3);
  });

  it('a refused connect (twice, the retry included): "SC", Tc -1, one retry, no server left', async () => {
    const deadPort = await freePort();
    const { port, records } = await recordedProxy(backend('be', [server('dead', deadPort)]));
    const c = await client(port);
    await closed(c).catch(() => {});
    const r = await oneRecord(records);
    expect(r).toMatchObject({
      termination: 'SC',
      tc: -1,
      bytesRead: 0,
      reason: 'connect failed: ECONNREFUSED',
    });
    expect(r.retries).toBeLessThanOrEqual(1);
  });

  it('a connect timeout: "sC"', async () => {
    const hole = await blackhole();
    defer(() => hole.close());
    const { port, records } = await recordedProxy(backend('be', [server('hole', hole.port)]), {
      timeouts: { connect: 100, client: 60_000, server: 60_000, check: 5000 },
    });
    const c = await client(port);
    await closed(c).catch(() => {});
    const r = await oneRecord(records);
    expect(r).toMatchObject({ termination: 'sC', tc: -1 });
  });

  it('an idle timeout: "cD" when the client timeout is the shorter, "sD" when the server one is', async () => {
    for (const [timeouts, expected] of [
      [{ client: 150, server: 60_000 }, 'cD'],
      [{ client: 60_000, server: 150 }, 'sD'],
    ] as const) {
      const s1 = await start(echo);
      const { port, records } = await recordedProxy(
        backend('be', [server('s1', s1.port)]),
        { timeouts: { connect: 5000, check: 5000, ...timeouts } },
        { sweepIntervalMs: 25 },
      );
      const c = await client(port);
      await relayed(c, 'x');
      await closed(c).catch(() => {});
      const r = await oneRecord(records);
      expect(r).toMatchObject({ termination: expected, reason: 'idle timeout' });
    }
  });

  it('a session killed by the operator: "KD"; a server shut down: "KD" too', async () => {
    const s1 = await start(echo);
    const { port, rt, records } = await recordedProxy(backend('be', [server('s1', s1.port)]));
    const c = await client(port);
    await relayed(c, 'x');
    const [info] = await rt.sessions();
    expect(await rt.killSession(info.id)).toBe(true);
    await closed(c).catch(() => {});
    expect(await oneRecord(records)).toMatchObject({ termination: 'KD', reason: 'killed' });
    records.length = 0;
    const c2 = await client(port);
    await relayed(c2, 'y');
    expect(await rt.shutdownSessions('be', 's1')).toBe(1);
    await closed(c2).catch(() => {});
    expect(await oneRecord(records)).toMatchObject({ termination: 'KD', reason: 'shutdown' });
  });

  it('builds nothing once the listener is gone', async () => {
    const s1 = await start(echo);
    const port = await freePort();
    const rt = runtime();
    const records: SessionEndRecord[] = [];
    rt.onSessionEnd((r) => records.push(r))();
    await rt.apply(snapshot([frontend('fe', port, 'be')], [backend('be', [server('s1', s1.port)])]));
    const c = await client(port);
    await relayed(c, 'x');
    c.end();
    await closed(c);
    await waitFor(async () => (await rt.sessions()).length === 0, 2000, 'session gone');
    expect(records).toHaveLength(0);
  });

  it('a client that resets while the server connect hangs: "CC"', async () => {
    const hole = await blackhole();
    defer(() => hole.close());
    const { port, rt, records } = await recordedProxy(backend('be', [server('hole', hole.port)]), {
      timeouts: { connect: 5000, client: 60_000, server: 60_000, check: 5000 },
    });
    const c = await client(port);
    await waitFor(async () => (await rt.sessions()).length === 1, 2000, 'the session');
    // A reset: a plain FIN while connecting is kept and forwarded once connected, as HAProxy does.
    c.resetAndDestroy();
    expect(await oneRecord(records)).toMatchObject({ termination: 'CC', tc: -1, server: 'hole' });
  });

  it('a refused connect retried on another server: "--", one retry, redispatched', async () => {
    const alive = await start(echo);
    const deadPort = await freePort();
    const { port, records } = await recordedProxy(
      backend('be', [server('dead', deadPort), server('alive', alive.port)], { balance: 'first' }),
    );
    const c = await client(port);
    await relayed(c, 'x');
    c.end();
    await closed(c);
    expect(await oneRecord(records)).toMatchObject({
      termination: '--',
      server: 'alive',
      retries: 1,
      redispatched: true,
    });
  });
});
