import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CHECK,
  DEFAULT_DEFAULTS,
  type Backend,
  type Frontend,
  type Snapshot,
} from '../schema/snapshot.js';
import { createBalancer } from './balancers/registry.js';
import { computeImpact } from './impact.js';
import type { SessionInfo } from './types.js';

function frontend(name: string, port: number, backend = 'sms', enabled = true): Frontend {
  const bind = { address: '127.0.0.1', port };
  return { name, bind, binds: [bind], backend, enabled };
}

function backend(
  name: string,
  servers: Array<[string, number] | [string, number, boolean]>,
  extra: Partial<Backend> = {},
): Backend {
  return {
    name,
    balance: 'source',
    hashType: 'consistent',
    check: { ...DEFAULT_CHECK },
    sendProxy: 'none',
    onMarkedDown: 'keep',
    servers: servers.map(([server, weight, backup = false], i) => ({
      name: server,
      address: '127.0.0.1',
      port: 9315 + i,
      weight,
      backup,
      check: true,
    })),
    ...extra,
  };
}

function snapshot(frontends: Frontend[], backends: Backend[]): Snapshot {
  return { defaults: structuredClone(DEFAULT_DEFAULTS), frontends, backends };
}

let nextId = 0;
function session(
  frontendName: string,
  backendName: string,
  server: string | null,
  clientAddress: string,
): SessionInfo {
  return {
    id: String(++nextId),
    frontend: frontendName,
    backend: backendName,
    server,
    clientAddress,
    clientPort: 40000 + nextId,
    startedAt: 0,
    lastActiveAt: 0,
    bytesIn: 0,
    bytesOut: 0,
    state: 'established',
    readPath: 'stream',
  };
}

const clientIps = Array.from({ length: 400 }, (_, i) => `10.9.${i >> 8}.${i & 255}`);

/** The server a config elects for an IP, straight from the balancer (one balancer per backend object). */
const balancers = new WeakMap<Backend, (ip: string) => string>();
function electedBy(b: Backend, ip: string): string {
  let elect = balancers.get(b);
  if (!elect) {
    const servers = b.servers
      .map((s, index) => ({ name: s.name, weight: s.weight, index, backup: s.backup }))
      .filter((s) => !s.backup)
      .map(({ name, weight, index }) => ({ name, weight, index }));
    const balancer = createBalancer(b.balance, { hashType: b.hashType, servers });
    const candidates = servers.filter((s) => s.weight > 0).map((s) => ({ ...s, sessions: 0 }));
    elect = (address: string) => balancer.elect(candidates, { clientAddress: address })!.name;
    balancers.set(b, elect);
  }
  return elect(ip);
}

describe('computeImpact: listeners', () => {
  const sessions = [
    session('moved', 'sms', 's1', '10.0.0.1'),
    session('moved', 'sms', 's2', '10.0.0.2'),
    session('gone', 'sms', 's1', '10.0.0.3'),
    session('kept', 'sms', 's1', '10.0.0.4'),
  ];
  const sms = backend('sms', [
    ['s1', 1],
    ['s2', 1],
  ]);
  const current = snapshot(
    [
      frontend('kept', 9001),
      frontend('moved', 9002),
      frontend('gone', 9003),
      frontend('off', 9004, 'sms', false),
      frontend('turned-off', 9005),
      frontend('off-gone', 9006, 'sms', false),
    ],
    [sms],
  );
  const candidate = snapshot(
    [
      frontend('kept', 9001),
      frontend('moved', 9012),
      frontend('off', 9004),
      frontend('turned-off', 9005, 'sms', false),
      frontend('new', 9007),
      frontend('new-off', 9008, 'sms', false),
    ],
    [sms],
  );
  const report = computeImpact(current, candidate, sessions);

  it('lists listeners to bind: new, enabled, or moved to another port', () => {
    expect(report.listenersOpened).toEqual([
      { frontend: 'moved', address: '127.0.0.1', port: 9012 },
      { frontend: 'off', address: '127.0.0.1', port: 9004 },
      { frontend: 'new', address: '127.0.0.1', port: 9007 },
    ]);
  });

  it('lists listeners to close with the sessions they carry (kept until they end)', () => {
    expect(report.listenersClosed).toEqual([
      { frontend: 'moved', address: '127.0.0.1', port: 9002, sessions: 2 },
      { frontend: 'gone', address: '127.0.0.1', port: 9003, sessions: 1 },
      { frontend: 'turned-off', address: '127.0.0.1', port: 9005, sessions: 0 },
    ]);
  });

  it('reports nothing for an identical snapshot', () => {
    const same = computeImpact(current, structuredClone(current), sessions);
    expect(same.listenersOpened).toEqual([]);
    expect(same.listenersClosed).toEqual([]);
    expect(same.serversRemoved).toEqual([]);
    expect(same.rehashed).toEqual([]); // the hashed backend 'sms' did not change: nobody can move
  });

  it('notices an address change on the same port', () => {
    const rebound = structuredClone(current);
    rebound.frontends[0].bind.address = '127.0.0.2';
    const result = computeImpact(current, rebound, sessions);
    expect(result.listenersOpened).toEqual([{ frontend: 'kept', address: '127.0.0.2', port: 9001 }]);
    expect(result.listenersClosed).toEqual([
      { frontend: 'kept', address: '127.0.0.1', port: 9001, sessions: 1 },
    ]);
  });
});

describe('computeImpact: servers removed', () => {
  it('counts the sessions of each removed server, whole removed backends included', () => {
    const current = snapshot(
      [frontend('a', 9001, 'sms'), frontend('b', 9002, 'old')],
      [
        backend(
          'sms',
          [
            ['s1', 1],
            ['s2', 1],
            ['s3', 1],
          ],
          { balance: 'roundrobin' },
        ),
        backend('old', [
          ['o1', 1],
          ['o2', 1, true],
        ]),
      ],
    );
    const candidate = snapshot(
      [frontend('a', 9001, 'sms')],
      [
        backend(
          'sms',
          [
            ['s1', 1],
            ['s3', 1],
          ],
          { balance: 'roundrobin' },
        ),
      ],
    );
    const sessions = [
      session('a', 'sms', 's2', '10.0.0.1'),
      session('a', 'sms', 's2', '10.0.0.2'),
      session('a', 'sms', 's1', '10.0.0.3'),
      session('a', 'sms', null, '10.0.0.4'),
      session('b', 'old', 'o1', '10.0.0.5'),
    ];
    expect(computeImpact(current, candidate, sessions).serversRemoved).toEqual([
      { backend: 'sms', server: 's2', sessions: 2 },
      { backend: 'old', server: 'o1', sessions: 1 },
      { backend: 'old', server: 'o2', sessions: 0 },
    ]);
  });
});

describe('computeImpact: rehashed clients', () => {
  const fe = [frontend('sms-in', 9001)];
  const four = backend('sms', [
    ['s1', 1],
    ['s2', 1],
    ['s3', 1],
    ['s4', 1],
    ['spare', 1, true],
  ]);
  // Two sessions per client: distinct addresses are what count.
  const sessions = clientIps.flatMap((ip) => [
    session('sms-in', 'sms', electedBy(four, ip), ip),
    session('sms-in', 'sms', electedBy(four, ip), ip),
  ]);

  it('moves exactly the clients of a removed server under consistent hashing', () => {
    const candidate = snapshot(fe, [
      backend('sms', [
        ['s1', 1],
        ['s2', 1],
        ['s3', 1],
        ['spare', 1, true],
      ]),
    ]);
    const [entry] = computeImpact(snapshot(fe, [four]), candidate, sessions).rehashed;
    const onS4 = clientIps.filter((ip) => electedBy(four, ip) === 's4').length;
    expect(onS4).toBeGreaterThan(0);
    expect(entry).toEqual({
      backend: 'sms',
      clients: clientIps.length,
      moved: onS4,
      share: onS4 / clientIps.length,
    });
    expect(entry.share).toBeLessThanOrEqual((1 / 4) * 1.5);
  });

  it('counts a server set to weight 0 like a removal, and ignores backup servers', () => {
    const drained = structuredClone(four);
    drained.servers[3].weight = 0;
    drained.servers[4].weight = 200; // backups are not candidates while actives are usable
    const [entry] = computeImpact(snapshot(fe, [four]), snapshot(fe, [drained]), sessions).rehashed;
    expect(entry.moved).toBe(clientIps.filter((ip) => electedBy(four, ip) === 's4').length);
  });

  it('moves about 1/(N+1) of clients to an added server', () => {
    const grown = backend('sms', [
      ['s1', 1],
      ['s2', 1],
      ['s3', 1],
      ['s4', 1],
      ['spare', 1, true],
      ['s5', 1],
    ]);
    const [entry] = computeImpact(snapshot(fe, [four]), snapshot(fe, [grown]), sessions).rehashed;
    const toS5 = clientIps.filter((ip) => electedBy(grown, ip) === 's5').length;
    expect(entry.moved).toBe(toS5);
    expect(entry.share).toBeGreaterThan(0);
    expect(entry.share).toBeLessThanOrEqual((1 / 5) * 1.5);
  });

  it('shows map-based remapping far more clients than consistent for the same change', () => {
    const mapBased = (servers: Array<[string, number]>) => backend('sms', servers, { hashType: 'map-based' });
    const before = mapBased([
      ['s1', 1],
      ['s2', 1],
      ['s3', 1],
      ['s4', 1],
    ]);
    const after = mapBased([
      ['s1', 1],
      ['s2', 1],
      ['s3', 1],
    ]);
    const [entry] = computeImpact(snapshot(fe, [before]), snapshot(fe, [after]), sessions).rehashed;
    expect(entry.share).toBeGreaterThan(0.4);
  });

  it('reports a switch between hash types and between source and cmpp-account', () => {
    const mapped = { ...structuredClone(four), hashType: 'map-based' as const };
    expect(
      computeImpact(snapshot(fe, [four]), snapshot(fe, [mapped]), sessions).rehashed[0].moved,
    ).toBeGreaterThan(0);
    // cmpp-account without a known account falls back to the client IP on the same ring: nobody moves.
    const byAccount = { ...structuredClone(four), balance: 'cmpp-account' as const };
    expect(computeImpact(snapshot(fe, [four]), snapshot(fe, [byAccount]), sessions).rehashed[0].moved).toBe(
      0,
    );
  });

  it('leaves out backends that are not hashed on both sides, or absent from one', () => {
    const rr = { ...structuredClone(four), balance: 'roundrobin' as const };
    expect(computeImpact(snapshot(fe, [four]), snapshot(fe, [rr]), sessions).rehashed).toEqual([]);
    expect(computeImpact(snapshot(fe, [rr]), snapshot(fe, [four]), sessions).rehashed).toEqual([]);
    expect(computeImpact(snapshot(fe, [four]), snapshot([], []), sessions).rehashed).toEqual([]);
  });

  it('reports zero clients for a hashed backend without sessions', () => {
    const grown = structuredClone(four);
    grown.servers.push({ ...grown.servers[0], name: 's5', port: grown.servers[0].port + 10 });
    expect(computeImpact(snapshot(fe, [four]), snapshot(fe, [grown]), []).rehashed).toEqual([
      { backend: 'sms', clients: 0, moved: 0, share: 0 },
    ]);
  });
});
